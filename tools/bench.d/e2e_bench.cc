// signpost-bench-e2e: referrals submitted over gRPC at a fixed rate; the time from each
// SubmitReferral call to its first-contact task arriving on a subscribed link-worker stream.
// Pointed at the real services or at signpost-bench-relay (the baseline), by tools/bench e2e.
// Prints one JSON object: rates, counts, latency percentiles, and the backlog (accepted but not
// yet delivered) sampled every second.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/call_authenticator.h"
#include "common/auth/token_source.h"
#include "common/events/timestamp.h"
#include "common/grpc/tls_credentials.h"
#include "common/process/process_tuning.h"
#include "signpost/v1/followup_service.grpc.pb.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tools/demo/referral_maker.h"

namespace {

using namespace signpost;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// A message with a submission's key in parentheses ("(system/referral id)") as "(...)", so that
// failures group by kind rather than one per submission. A plain scan: it runs on the gRPC
// callback thread for every failed call, on the machine being measured.
std::string WithoutSubmissionKeys(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  while (!message.empty()) {
    const size_t open = message.find('(');
    if (open == std::string_view::npos) break;
    const size_t close = message.find_first_of("()", open + 1);
    if (close == std::string_view::npos) break;
    std::string_view inside = message.substr(open + 1, close - open - 1);
    const bool key = message[close] == ')' && inside.find('/') != std::string_view::npos;
    out.append(message.substr(0, open));
    out.append(key ? "(...)" : message.substr(open, close - open + (message[close] == ')')));
    message.remove_prefix(close + (message[close] == ')'));
  }
  out.append(message);
  return out;
}

struct Ledger {
  absl::Mutex mu;
  std::unordered_map<std::string, absl::Time> started ABSL_GUARDED_BY(mu);  // by referral id
  std::unordered_map<std::string, absl::Time> arrived ABSL_GUARDED_BY(mu);
  std::unordered_map<std::string, absl::Time> answered ABSL_GUARDED_BY(mu);  // measured ones
  // Referral ids this run's calls were answered with (warm-up included). An arrival counts as
  // delivered only for one of them: tasks of an earlier run's backlog are not this run's.
  std::unordered_set<std::string> ours ABSL_GUARDED_BY(mu);
  std::atomic<int> in_flight{0}, accepted{0}, failed{0}, delivered{0};
  // Failed calls by status code and the message up to its first ';' (what a referrer would have
  // been told: a refusal says what happened, then what to do), so that a run's failures say whether
  // they were load shed, timed out or refused.
  std::map<std::string, int> failures ABSL_GUARDED_BY(mu);

  void Failed(const grpc::Status& status) {
    std::string message = WithoutSubmissionKeys(status.error_message());
    message = message.substr(0, std::min(message.find(';'), size_t{100}));
    while (!message.empty() && message.back() == ' ') message.pop_back();
    absl::MutexLock lock(&mu);
    // gRPC's codes are absl's, number for number.
    ++failures[absl::StrCat(
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), ": ",
        message)];
  }

  nlohmann::json FailuresJson() {
    absl::MutexLock lock(&mu);
    return nlohmann::json(failures);
  }

  // When follow-up made each arrived task (its created_at): the rest is the task feed's time.
  std::unordered_map<std::string, absl::Time> created ABSL_GUARDED_BY(mu);

  // Either may come first: the task on the stream or the call's answer.
  void Arrived(const std::string& id, absl::Time at, absl::Time task_created) {
    absl::MutexLock lock(&mu);
    if (!arrived.emplace(id, at).second) return;
    if (task_created != absl::UnixEpoch()) created.emplace(id, task_created);
    if (ours.contains(id)) ++delivered;
  }
  void Answered(const std::string& id) {
    absl::MutexLock lock(&mu);
    if (ours.insert(id).second && arrived.contains(id)) ++delivered;
  }
};

struct Call {
  grpc::ClientContext context;
  v1::SubmitReferralRequest request;
  v1::SubmitReferralResponse response;
  absl::Time started;
  bool measured = false;
};

}  // namespace

int main(int argc, char** argv) {
  signpost::TuneProcess();
  std::string intake, followup, queues_file, samples_file, label = "run";
  std::vector<std::string> queues;
  double rate = 1000, duration_s = 20, warmup_s = 3, drain_s = 30;
  int resources = 3000, channels = 4;
  uint64_t seed = 20261123;
  CLI::App app("signpost-bench-e2e");
  app.add_option("--intake", intake)->required();
  app.add_option("--followup", followup)->required();
  app.add_option("--queue", queues, "A queue to subscribe to (repeatable)");
  app.add_option("--queues-file", queues_file, "Queues, one per line (signpost-region's)");
  app.add_option("--rate", rate, "Referrals per second")->capture_default_str();
  app.add_option("--duration", duration_s, "Seconds measured")->capture_default_str();
  app.add_option("--warmup", warmup_s, "Seconds at the rate before measuring")
      ->capture_default_str();
  app.add_option("--drain", drain_s, "Seconds to wait for the last tasks")->capture_default_str();
  app.add_option("--channels", channels, "gRPC connections to intake")->capture_default_str();
  app.add_option("--label", label);
  app.add_option("--samples-file", samples_file,
                 "Write every measured referral as CSV: sent (s from the start), answered (ms "
                 "after sending), task arrived (ms after sending; empty if it did not)");
  app.add_option("--resources", resources, "The region's size (referral content)");
  TlsConfig tls;
  AddClientTlsOptions(app, tls);
  std::string signing_key;
  app.add_option("--token-signing-key", signing_key,
                 "Sign the GP system's and queue owners' tokens with this key (tools/run's)")
      ->envname("SIGNPOST_TOKEN_SIGNING_KEY");
  CLI11_PARSE(app, argc, argv);
  std::shared_ptr<const auth::TokenSigner> signer;
  if (!signing_key.empty()) {
    auto loaded = auth::TokenSigner::FromFile(signing_key);
    if (!loaded.ok()) {
      std::fprintf(stderr, "--token-signing-key: %s\n", loaded.status().ToString().c_str());
      return 2;
    }
    signer = *std::move(loaded);
  }
  region::Region region = region::GenerateRegion(seed, resources);
  std::map<std::string, std::string> network_of;
  for (const auto& w : region.link_workers) network_of[w.id()] = w.network_id();
  auto credentials = ChannelCredentialsFor(tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "%s\n", credentials.status().ToString().c_str());
    return 2;
  }
  if (!queues_file.empty()) {
    std::ifstream in(queues_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) queues.push_back(line);
    }
  }
  if (queues.empty()) {
    std::cerr << "signpost-bench-e2e: give --queue or --queues-file\n";
    return 2;
  }

  Ledger ledger;
  auto followup_channel = grpc::CreateChannel(followup, *credentials);
  auto tasks = v1::FollowUpService::NewStub(followup_channel);
  std::atomic<int> ready{0};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<grpc::ClientContext>> subscriptions;
  std::vector<std::thread> readers;
  for (const auto& queue : queues) {
    subscriptions.push_back(std::make_unique<grpc::ClientContext>());
    grpc::ClientContext* context = subscriptions.back().get();
    // The queue owner's token: the network's coordinator for a team queue, else the link worker.
    auth::Principal owner = auth::QueueOwner(
        queue, network_of.contains(queue) ? network_of[queue] : "unrostered", "bench-coordinator");
    auth::AttachBearerToken(*context, auth::TokenSource(signer, owner, absl::Hours(2)).Current());
    readers.emplace_back([&, context, queue] {
      v1::SubscribeTasksRequest request;
      request.set_link_worker_id(queue);
      auto reader = tasks->SubscribeTasks(context, request);
      v1::TaskUpdate update;
      while (reader->Read(&update)) {
        if (update.snapshot_end()) ++ready;
        if (update.snapshot() || !update.has_task()) continue;
        const auto& task = update.task();
        if (task.kind() != v1::TASK_KIND_FIRST_CONTACT || task.status() != v1::TASK_STATUS_OPEN) {
          continue;
        }
        ledger.Arrived(task.referral_id(), absl::Now(), events::FromTimestamp(task.created_at()));
      }
      (void)reader->Finish();
    });
  }
  for (int i = 0; i < 600 && ready < static_cast<int>(queues.size()); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (ready < static_cast<int>(queues.size())) {
    std::cerr << "signpost-bench-e2e: " << ready << " of " << queues.size()
              << " task streams answered\n";
    for (auto& context : subscriptions) context->TryCancel();
    for (auto& r : readers) r.join();
    return 1;
  }

  // Made before the clock starts, so the pacer only sends.
  const int total = static_cast<int>(rate * (warmup_s + duration_s));
  demo::ReferralMaker maker(region, static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  std::vector<v1::Referral> referrals;
  referrals.reserve(total);
  for (int i = 0; i < total; ++i) referrals.push_back(maker.Make("bench-gp", absl::Now()));

  std::vector<std::unique_ptr<v1::IntakeService::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("signpost.channel", c);  // distinct arguments: distinct connections
    stubs.push_back(
        v1::IntakeService::NewStub(grpc::CreateCustomChannel(intake, *credentials, args)));
  }

  // Backlog: accepted, not yet delivered; sampled every second while sending and draining.
  std::vector<int> backlog;
  std::thread sampler([&] {
    while (!stop) {
      absl::SleepFor(absl::Seconds(1));
      backlog.push_back(ledger.accepted - ledger.delivered);
    }
  });

  // Signed once: the run is shorter than the token's life.
  const std::string gp_token =
      auth::TokenSource(signer,
                        {auth::Role::kReferrer, "bench-gp-system", region.practice_ods_codes, ""},
                        absl::Hours(2))
          .Current();
  const absl::Time begin = absl::Now();
  const absl::Time measure_from = begin + absl::Seconds(warmup_s);
  for (int i = 0; i < total; ++i) {
    absl::Time due = begin + absl::Seconds(i / rate);
    absl::Time now = absl::Now();
    if (due > now) absl::SleepFor(due - now);
    auto* call = new Call;
    *call->request.mutable_referral() = std::move(referrals[i]);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auth::AttachBearerToken(call->context, gp_token);
    call->started = absl::Now();
    call->measured = call->started >= measure_from;
    ++ledger.in_flight;
    stubs[i % channels]->async()->SubmitReferral(
        &call->context, &call->request, &call->response, [&ledger, call](grpc::Status s) {
          if (s.ok()) {
            {
              absl::MutexLock lock(&ledger.mu);
              if (call->measured) {
                ledger.started[call->response.referral_id()] = call->started;
                ledger.answered[call->response.referral_id()] = absl::Now();
              }
            }
            ledger.Answered(call->response.referral_id());
            ++ledger.accepted;
          } else {
            ledger.Failed(s);
            ++ledger.failed;
          }
          delete call;
          --ledger.in_flight;  // last: main may tear down once nothing is in flight
        });
  }
  const absl::Time sent_all = absl::Now();
  const int accepted_at_end = ledger.accepted;
  const int delivered_at_end = ledger.delivered;
  while (ledger.in_flight > 0) absl::SleepFor(absl::Milliseconds(10));
  absl::Time drain_until = absl::Now() + absl::Seconds(drain_s);
  while (absl::Now() < drain_until && ledger.delivered < ledger.accepted) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Time drained = absl::Now();
  stop = true;
  sampler.join();
  for (auto& s : subscriptions) s->TryCancel();
  for (auto& r : readers) r.join();

  std::vector<double> latency_ms, answer_ms, feed_ms;
  std::vector<std::tuple<double, double, std::optional<double>>> samples;  // in sending order
  int measured = 0, lost = 0;
  absl::Time last_arrival = begin;
  {
    absl::MutexLock lock(&ledger.mu);
    for (const auto& [id, at] : ledger.arrived) {
      if (ledger.ours.contains(id)) last_arrival = std::max(last_arrival, at);
    }
    for (const auto& [id, started] : ledger.started) {
      ++measured;
      const double answer = absl::ToDoubleMilliseconds(ledger.answered[id] - started);
      answer_ms.push_back(answer);
      auto it = ledger.arrived.find(id);
      if (it == ledger.arrived.end()) {
        ++lost;
        samples.emplace_back(absl::ToDoubleSeconds(started - begin), answer, std::nullopt);
        continue;
      }
      latency_ms.push_back(absl::ToDoubleMilliseconds(it->second - started));
      if (auto made = ledger.created.find(id); made != ledger.created.end()) {
        feed_ms.push_back(absl::ToDoubleMilliseconds(it->second - made->second));
      }
      samples.emplace_back(absl::ToDoubleSeconds(started - begin), answer, latency_ms.back());
    }
  }
  if (!samples_file.empty()) {
    std::sort(samples.begin(), samples.end());
    std::ofstream csv(samples_file);
    csv << "sent_s,answered_ms,arrived_ms\n";
    for (const auto& [sent, answer, arrived] : samples) {
      csv << sent << "," << answer << ",";
      if (arrived) csv << *arrived;
      csv << "\n";
    }
    if (!csv) {
      std::cerr << "signpost-bench-e2e: could not write " << samples_file << "\n";
      return 1;
    }
  }
  const double send_seconds = absl::ToDoubleSeconds(sent_all - begin);
  // The load generator runs on the same machine as what it measures: what it used is reported
  // so that tools/bench can show what the rest had.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  nlohmann::json out = {
      {"label", label},
      {"target_rate", rate},
      {"offered_rate", total / send_seconds},
      {"submitted", total},
      {"accepted", ledger.accepted.load()},
      {"failed", ledger.failed.load()},
      {"failures", ledger.FailuresJson()},
      {"delivered", ledger.delivered.load()},
      {"measured", measured},
      {"not_delivered", lost},
      // Delivered per second from the first send to the last task's arrival.
      {"delivered_rate",
       ledger.delivered / std::max(1e-9, absl::ToDoubleSeconds(last_arrival - begin))},
      {"p50_ms", Percentile(latency_ms, 0.5)},
      {"p99_ms", Percentile(latency_ms, 0.99)},
      {"max_ms", Percentile(latency_ms, 1.0)},
      // SubmitReferral's own answer: accepted once the broker holds the referral.
      {"answer_p50_ms", Percentile(answer_ms, 0.5)},
      {"answer_p99_ms", Percentile(answer_ms, 0.99)},
      // From the task's creation in follow-up to its arrival on the stream: the task feed.
      {"task_feed_p50_ms", Percentile(feed_ms, 0.5)},
      {"task_feed_p99_ms", Percentile(feed_ms, 0.99)},
      {"backlog_max", backlog.empty() ? 0 : *std::max_element(backlog.begin(), backlog.end())},
      {"backlog_when_sending_stopped", accepted_at_end - delivered_at_end},
      {"drain_seconds", absl::ToDoubleSeconds(drained - sent_all)},
      {"backlog_per_second", backlog},
      {"load_generator_cpu_seconds", seconds(usage.ru_utime) + seconds(usage.ru_stime)},
  };
  // A message cut inside a UTF-8 character is written with a replacement, not lost.
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return 0;
}
