// signpost-bench-relay: the baseline of the end-to-end benchmark. The same hops as a referral's
// way from SubmitReferral to a link worker's task stream, doing no work at each:
//   --role front   IntakeService.SubmitReferral: publish the request (acks=all), answer on ack
//   --role middle  consume what front published, publish it on (matching's hop)
//   --role back    consume that, push a task to FollowUpService.SubscribeTasks subscribers
// Through the same broker with the same client libraries, consumer settings and topic layout
// (the Signpost topics under the prefix "relay.").
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <deque>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/admin.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/process/process_tuning.h"
#include "common/process/shutdown_signal.h"
#include "signpost/v1/followup_service.grpc.pb.h"
#include "signpost/v1/intake_service.grpc.pb.h"

namespace {

using namespace signpost;

constexpr char kPrefix[] = "relay.";

class FrontService final : public v1::IntakeService::CallbackService {
 public:
  explicit FrontService(kafka::Producer& producer) : producer_(producer) {}

  grpc::ServerUnaryReactor* SubmitReferral(grpc::CallbackServerContext* context,
                                           const v1::SubmitReferralRequest* request,
                                           v1::SubmitReferralResponse* response) override {
    auto* reactor = context->DefaultReactor();
    std::string id = absl::StrCat("relay-", next_id_.fetch_add(1));
    response->set_referral_id(id);
    producer_.SendAsync(
        {kafka::TopicName(kafka::Topic::kReferralReceived, kPrefix),
         id,
         request->SerializeAsString(),
         {}},
        [reactor](absl::Status s) {
          reactor->Finish(s.ok() ? grpc::Status::OK
                                 : grpc::Status(grpc::StatusCode::UNAVAILABLE, "not published"));
        });
    return reactor;
  }

 private:
  kafka::Producer& producer_;
  std::atomic<uint64_t> next_id_{0};
};

// Passes each batch on and waits for the broker's acks, as a service's handler does.
class Forward final : public kafka::BatchHandler {
 public:
  explicit Forward(kafka::Producer& producer) : producer_(producer) {}
  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override {
    std::vector<kafka::OutgoingMessage> out;
    for (const auto& m : batch) {
      out.push_back(
          {kafka::TopicName(kafka::Topic::kReferralMatched, kPrefix), m.key, m.value, {}});
    }
    absl::Status sent = producer_.SendAll(out);
    return std::vector<kafka::Outcome>(
        batch.size(), sent.ok() ? kafka::Outcome::Done() : kafka::Outcome::Retry("not sent"));
  }

 private:
  kafka::Producer& producer_;
};

// Task streams: every subscriber gets every task (one queue is enough for a baseline).
class BackService final : public v1::FollowUpService::CallbackService, public kafka::BatchHandler {
 public:
  class Stream : public grpc::ServerWriteReactor<v1::TaskUpdate> {
   public:
    explicit Stream(BackService& service) : service_(service) {
      v1::TaskUpdate end;
      end.set_snapshot_end(true);
      Push(std::move(end));
    }
    void Push(v1::TaskUpdate update) {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      pending_.push_back(std::move(update));
      if (!writing_) WriteNextLocked();
    }
    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) return EndLocked();
      pending_.pop_front();
      if (!pending_.empty() && !done_) WriteNextLocked();
    }
    void OnCancel() override {
      absl::MutexLock lock(&mu_);
      EndLocked();
    }
    void OnDone() override {
      service_.Remove(this);
      delete this;
    }

   private:
    void EndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (done_) return;
      done_ = true;
      Finish(grpc::Status::CANCELLED);
    }
    void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      writing_ = true;
      StartWrite(&pending_.front());
    }
    BackService& service_;
    absl::Mutex mu_;
    std::deque<v1::TaskUpdate> pending_ ABSL_GUARDED_BY(mu_);
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool done_ ABSL_GUARDED_BY(mu_) = false;
  };

  grpc::ServerWriteReactor<v1::TaskUpdate>* SubscribeTasks(
      grpc::CallbackServerContext* /*context*/,
      const v1::SubscribeTasksRequest* /*request*/) override {
    auto* stream = new Stream(*this);
    absl::MutexLock lock(&mu_);
    streams_.insert(stream);
    return stream;
  }

  void Remove(Stream* stream) {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream);
  }

  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override {
    absl::MutexLock lock(&mu_);
    for (const auto& m : batch) {
      v1::TaskUpdate update;
      update.mutable_task()->set_id(absl::StrCat(m.key, "/first-contact"));
      update.mutable_task()->set_referral_id(m.key);
      update.mutable_task()->set_kind(v1::TASK_KIND_FIRST_CONTACT);
      update.mutable_task()->set_status(v1::TASK_STATUS_OPEN);
      for (Stream* s : streams_) s->Push(update);
    }
    return std::vector<kafka::Outcome>(batch.size(), kafka::Outcome::Done());
  }

 private:
  absl::Mutex mu_;
  std::set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int main(int argc, char** argv) {
  std::string role, bootstrap, listen = "127.0.0.1:0", port_file;
  signpost::TuneProcess();
  CLI::App app("signpost-bench-relay: the end-to-end benchmark's baseline");
  app.add_option("--role", role)->required()->check(CLI::IsMember({"front", "middle", "back"}));
  app.add_option("--kafka-bootstrap", bootstrap)->required();
  app.add_option("--listen", listen)->capture_default_str();
  app.add_option("--port-file", port_file);
  // The same transport as the services it stands in for: TLS with their certificate.
  TlsConfig tls{.insecure = true};
  app.add_option("--tls-cert", tls.cert);
  app.add_option("--tls-key", tls.key);
  CLI11_PARSE(app, argc, argv);
  tls.insecure = tls.cert.empty();
  BlockShutdownSignals();

  kafka::TopicAdminOptions admin;
  admin.bootstrap = bootstrap;
  admin.prefix = kPrefix;
  if (auto s = kafka::EnsureSignpostTopics(admin); !s.ok()) {
    spdlog::critical("topics: {}", s.ToString());
    return 1;
  }
  kafka::ProducerOptions producer_options;
  producer_options.bootstrap = bootstrap;
  producer_options.client_id = "signpost-bench-relay";
  auto producer = kafka::KafkaProducer::Create(producer_options);
  if (!producer.ok()) {
    spdlog::critical("{}", producer.status().ToString());
    return 1;
  }
  GrpcServerOptions server_options;
  server_options.listen = listen;
  server_options.port_file = port_file;
  auto credentials = ServerCredentialsFor(tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "%s\n", credentials.status().ToString().c_str());
    return 2;
  }
  server_options.credentials = *credentials;

  FrontService front(**producer);
  Forward forward(**producer);
  BackService back;
  std::unique_ptr<GrpcServer> server;
  std::unique_ptr<kafka::KafkaConsumer> consumer;
  std::thread consuming;
  if (role == "middle" || role == "back") {
    kafka::ConsumerOptions options;
    options.bootstrap = bootstrap;
    options.group_id = absl::StrCat("signpost-bench-relay-", role);
    options.topics = {kafka::TopicName(
        role == "middle" ? kafka::Topic::kReferralReceived : kafka::Topic::kReferralMatched,
        kPrefix)};
    options.dead_letter_topic = kafka::TopicName(kafka::Topic::kDeadletter, kPrefix);
    kafka::BatchHandler& handler =
        role == "middle" ? static_cast<kafka::BatchHandler&>(forward) : back;
    auto created = kafka::KafkaConsumer::Create(options, handler, **producer);
    if (!created.ok()) {
      spdlog::critical("{}", created.status().ToString());
      return 1;
    }
    consumer = *std::move(created);
    consuming = std::thread([&] { consumer->Run(); });
  }
  if (role == "front" || role == "back") {
    std::vector<grpc::Service*> services;
    if (role == "front") services.push_back(&front);
    if (role == "back") services.push_back(&back);
    auto started = GrpcServer::Start(server_options, services);
    if (!started.ok()) {
      spdlog::critical("{}", started.status().ToString());
      return 1;
    }
    server = *std::move(started);
  } else if (!port_file.empty()) {
    std::ofstream(port_file) << 0 << "\n";  // ready
  }
  WaitForShutdownSignal();
  if (server) server->Shutdown(absl::Seconds(2));
  if (consumer) {
    consumer->Stop();
    consuming.join();
  }
  return 0;
}
