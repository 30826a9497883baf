// signpost-demo: a living system for the dashboard. Simulated GP systems send a steady stream of
// referrals (over gRPC to intake, and as protobuf submissions on signpost.referral.submitted; a
// few faulty ones that intake must refuse), and simulated link-worker apps, one per link worker
// of the synthetic region and one per network's team queue, work their queues (all but the one
// --leave-for-person names, whose cases wait for a person in the link-worker app). Started by
// tools/run --demo; stops on SIGINT/SIGTERM (or after --duration) with a summary.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/auth/token_source.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/process/shutdown_signal.h"
#include "services/intake/submissions_handler.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tools/demo/agenda.h"
#include "tools/demo/link_worker_app.h"
#include "tools/demo/referral_maker.h"
#include "tools/demo/worked_queues.h"
#include "tools/region/default_region_profile.h"

namespace {

struct GpCounts {
  std::atomic<int> grpc_sent{0}, grpc_accepted{0}, grpc_refused{0}, grpc_failed{0};
  std::atomic<int> kafka_sent{0}, kafka_failed{0};
};

}  // namespace

int main(int argc, char** argv) {
  using namespace signpost;
  std::string intake, followup, bootstrap, prefix;
  double rate = 2.0, kafka_share = 0.3, faulty_share = 0.03;
  double pace_seconds = 3.0, duration_seconds = 0;
  int resources = 3000;
  uint64_t seed = 20261123;
  std::string leave_for_person;
  CLI::App app("signpost-demo: simulated GP systems and link-worker apps");
  app.add_option("--intake", intake, "signpost-intake gRPC address")->required();
  app.add_option("--followup", followup, "signpost-followup gRPC address")->required();
  app.add_option("--kafka-bootstrap", bootstrap, "Kafka, for submissions on the topic")->required();
  app.add_option("--topic-prefix", prefix)->envname("SIGNPOST_TOPIC_PREFIX");
  app.add_option("--rate", rate, "Referrals per second from all GP systems")->capture_default_str();
  app.add_option("--kafka-share", kafka_share, "Share sent on the submitted topic")
      ->capture_default_str();
  app.add_option("--faulty-share", faulty_share, "Share that intake must refuse")
      ->capture_default_str();
  app.add_option("--pace", pace_seconds, "Seconds a link worker takes per step of a case")
      ->capture_default_str();
  app.add_option("--duration", duration_seconds, "Seconds to run (0: until stopped)");
  app.add_option("--resources", resources, "The region's size, as signpost-region made it")
      ->capture_default_str();
  app.add_option("--seed", seed, "The region's seed, as signpost-region made it")
      ->capture_default_str();
  std::string profile_folder;
  app.add_option("--profile", profile_folder,
                 "The region's profile folder, as signpost-region was given it (default the "
                 "built-in West Yorkshire)");
  app.add_option("--leave-for-person", leave_for_person,
                 "A queue no simulated app works (a link worker's id, or team:<network>): its "
                 "cases wait for a person to work them in the link-worker app");
  TlsConfig tls;
  AddClientTlsOptions(app, tls);
  std::string signing_key;
  app.add_option("--token-signing-key", signing_key,
                 "Sign the GP systems' and link workers' bearer tokens with this key (tools/run's "
                 "development key); none when the services run with --no-auth")
      ->envname("SIGNPOST_TOKEN_SIGNING_KEY");
  CLI11_PARSE(app, argc, argv);
  std::shared_ptr<const auth::TokenSigner> signer;
  if (!signing_key.empty()) {
    auto loaded = auth::TokenSigner::FromFile(signing_key);
    if (!loaded.ok()) {
      spdlog::critical("--token-signing-key: {}", loaded.status().ToString());
      return 2;
    }
    signer = *std::move(loaded);
  }
  auto credentials = ChannelCredentialsFor(tls);
  if (!credentials.ok()) {
    spdlog::critical("{}", credentials.status().ToString());
    return 2;
  }

  BlockShutdownSignals();
  region::RegionProfile profile = region::DefaultRegionProfile();
  if (!profile_folder.empty()) {
    auto read = region::ReadRegionProfile(profile_folder);
    if (!read.ok()) {
      spdlog::critical("--profile: {}", std::string(read.status().message()));
      return 2;
    }
    profile = *std::move(read);
  }
  const region::Region region = region::GenerateRegion(profile, seed, resources);
  // Each queue with its owner's token: a link worker, or the network's coordinator.
  auto queues = demo::WorkedQueues(region, leave_for_person);
  if (!queues.ok()) {
    spdlog::critical("{}", std::string(queues.status().message()));
    return 2;
  }

  kafka::ProducerOptions producer_options;
  producer_options.bootstrap = bootstrap;
  producer_options.client_id = "signpost-demo";
  auto producer = kafka::KafkaProducer::Create(producer_options);
  if (!producer.ok()) {
    spdlog::critical("Kafka producer: {}", producer.status().ToString());
    return 1;
  }
  const std::string submitted = kafka::TopicName(kafka::Topic::kReferralSubmitted, prefix);
  auto intake_stub = v1::IntakeService::NewStub(grpc::CreateChannel(intake, *credentials));
  std::shared_ptr<v1::FollowUpService::StubInterface> followup_stub =
      v1::FollowUpService::NewStub(grpc::CreateChannel(followup, *credentials));

  std::atomic<bool> stop{false};
  auto agenda = std::make_unique<demo::Agenda>(4);
  demo::LinkWorkerCounts worker_counts;
  std::vector<std::unique_ptr<demo::LinkWorkerApp>> apps;
  uint64_t app_seed = seed;
  for (const auto& [queue, owner] : *queues) {
    apps.push_back(std::make_unique<demo::LinkWorkerApp>(
        followup_stub, queue, signer ? std::make_shared<auth::TokenSource>(signer, owner) : nullptr,
        absl::Seconds(pace_seconds), ++app_seed, *agenda, worker_counts));
  }
  // The GP systems: one supplier's system referring for every practice of the region.
  auth::TokenSource gp_token(
      signer, {auth::Role::kReferrer, "gp-system-demo", region.practice_ods_codes, ""});
  std::vector<std::thread> threads;
  for (auto& a : apps) threads.emplace_back([&a, &stop] { a->Run(stop); });

  GpCounts gp;
  threads.emplace_back([&] {
    demo::ReferralMaker maker(region, seed ^ static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
    std::mt19937_64 rng(seed);
    const absl::Duration gap = absl::Seconds(1.0 / std::max(0.01, rate));
    absl::Time next = absl::Now();
    while (!stop) {
      absl::SleepFor(next - absl::Now());
      next += gap;
      const bool faulty = static_cast<double>(rng() % 10000) / 10000.0 < faulty_share;
      const bool over_kafka = static_cast<double>(rng() % 10000) / 10000.0 < kafka_share;
      const std::string source = over_kafka ? "gp-topic-demo" : "gp-grpc-demo";
      v1::Referral referral =
          faulty ? maker.MakeFaulty(source, absl::Now()) : maker.Make(source, absl::Now());
      if (over_kafka) {
        v1::ReferralSubmission submission;
        *submission.mutable_referral() = referral;
        kafka::OutgoingMessage message{submitted,
                                       referral.source_referral_id(),
                                       submission.SerializeAsString(),
                                       {{std::string(kafka::kHeaderContentType),
                                         std::string(intake::kProtobufSubmissionContentType)}}};
        ++gp.kafka_sent;
        if (!(*producer)->Send(std::move(message)).ok()) ++gp.kafka_failed;
        continue;
      }
      v1::SubmitReferralRequest request;
      *request.mutable_referral() = std::move(referral);
      v1::SubmitReferralResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      auth::AttachBearerToken(context, gp_token.Current());
      ++gp.grpc_sent;
      grpc::Status status = intake_stub->SubmitReferral(&context, request, &response);
      if (status.ok()) {
        ++gp.grpc_accepted;
      } else if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                 status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++gp.grpc_refused;
      } else {
        ++gp.grpc_failed;
        spdlog::warn("SubmitReferral: {}", status.error_message());
      }
    }
  });

  auto summary = [&] {
    return absl::StrCat("gRPC sent ", gp.grpc_sent.load(), " (accepted ", gp.grpc_accepted.load(),
                        ", refused ", gp.grpc_refused.load(), ", failed ", gp.grpc_failed.load(),
                        "); topic sent ", gp.kafka_sent.load(), " (failed ", gp.kafka_failed.load(),
                        "); tasks seen ", worker_counts.tasks_seen.load(), ", cases closed ",
                        worker_counts.cases_closed.load());
  };
  spdlog::info("demo: {} GP referrals/s ({:.0f}% on the topic), {} link-worker apps", rate,
               kafka_share * 100, apps.size());
  if (!leave_for_person.empty()) {
    spdlog::info("demo: no app works {}: its cases wait for a person", leave_for_person);
  }
  std::thread reporter([&] {
    absl::Time started = absl::Now();
    absl::Time report = started + absl::Seconds(10);
    while (!stop) {
      absl::SleepFor(absl::Milliseconds(200));
      if (duration_seconds > 0 && absl::Now() - started >= absl::Seconds(duration_seconds)) {
        kill(getpid(), SIGTERM);
        break;
      }
      if (absl::Now() >= report) {
        spdlog::info("demo: {}", summary());
        report += absl::Seconds(10);
      }
    }
  });
  WaitForShutdownSignal();
  stop = true;
  for (auto& t : threads) t.join();
  reporter.join();
  agenda.reset();  // before the apps its steps belong to
  spdlog::info("demo stopped: {}", summary());
  return 0;
}
