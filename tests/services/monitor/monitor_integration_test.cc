// signpost-monitor as a process against the real broker: lag of a real consumer group, rates,
// dead letters with reasons, over gRPC and the JSON API.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/call_authenticator.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "signpost/v1/ops_service.grpc.pb.h"
#include "tests/support/grpc_health.h"
#include "tests/support/kafka_env.h"
#include "tests/support/service_process.h"
#include "tests/support/taken_port.h"
#include "tests/support/test_tokens.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

extern char** environ;

namespace signpost::monitor {
namespace {

using signpost::testing::WaitUntil;

// Processes messages below a per-partition offset, retries the rest: the group's committed
// offsets stop exactly there.
class StopAt final : public kafka::BatchHandler {
 public:
  explicit StopAt(std::map<int, int64_t> limit) : limit_(std::move(limit)) {}
  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override {
    std::vector<kafka::Outcome> out;
    absl::MutexLock lock(&mu_);
    for (const auto& m : batch) {
      bool done = m.offset < limit_[m.partition];
      if (done) processed_.insert({m.partition, m.offset});
      out.push_back(done ? kafka::Outcome::Done() : kafka::Outcome::Retry("not yet"));
    }
    return out;
  }
  size_t processed() const {
    absl::MutexLock lock(&mu_);
    return processed_.size();
  }

 private:
  std::map<int, int64_t> limit_;
  mutable absl::Mutex mu_;
  std::set<std::pair<int, int64_t>> processed_ ABSL_GUARDED_BY(mu_);
};

TEST(MonitorIntegrationTest, ReportsLagRatesAndDeadLetters) {
  auto env = signpost::testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string topic = env->Topic(kafka::Topic::kReferralReceived);
  kafka::ProducerOptions producer_options;
  producer_options.bootstrap = env->bootstrap;
  auto producer = *kafka::KafkaProducer::Create(producer_options);
  constexpr int kEvents = 60;
  for (int i = 0; i < kEvents; ++i) {
    v1::Event e;
    e.mutable_referral_received();
    std::string rid = absl::StrCat("ref-", i);
    events::Seal(e, rid, "test", absl::Now());
    ASSERT_TRUE(producer->Send(events::ToMessage(e, topic, rid)).ok());
  }
  // Half of each partition (rounded down) will be processed by the group.
  auto written = signpost::testing::ReadTopic(env->bootstrap, topic);
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(written->size(), static_cast<size_t>(kEvents));
  std::map<int, int64_t> per_partition;
  for (const auto& m : *written) per_partition[m.partition] += 1;
  std::map<int, int64_t> limit, expected_lag;
  int64_t processed = 0;
  for (const auto& [p, n] : per_partition) {
    limit[p] = n / 2;
    expected_lag[p] = n - n / 2;
    processed += n / 2;
  }
  {
    StopAt handler(limit);
    kafka::ConsumerOptions options;
    options.bootstrap = env->bootstrap;
    options.group_id = env->Group("lag-test");
    options.topics = {topic};
    options.dead_letter_topic = env->Topic(kafka::Topic::kDeadletter);
    options.retry_backoff_initial = absl::Milliseconds(50);
    auto consumer = kafka::KafkaConsumer::Create(options, handler, *producer);
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    std::thread run([&] { (*consumer)->Run(); });
    // Processes its share and retries the rest; stopping commits what it processed.
    EXPECT_TRUE(WaitUntil([&] { return handler.processed() == static_cast<size_t>(processed); },
                          absl::Seconds(60)));
    absl::SleepFor(absl::Seconds(1));  // a few retries of the rest, as a stuck consumer would
    (*consumer)->Stop();
    run.join();
  }
  // Two poison messages, as a consumer would have dead-lettered them.
  for (int i = 0; i < 2; ++i) {
    kafka::OutgoingMessage letter{env->Topic(kafka::Topic::kDeadletter),
                                  "ref-x",
                                  "garbage",
                                  {{"dlq-reason", "value is not a serialized signpost.v1.Event"},
                                   {"dlq-source-topic", topic},
                                   {"dlq-source-partition", "2"},
                                   {"dlq-source-offset", absl::StrCat(40 + i)},
                                   {"dlq-consumer-group", env->Group("signpost-matching")}}};
    ASSERT_TRUE(producer->Send(letter).ok());
  }

  // Two unmet needs, for the gap report.
  for (int i = 0; i < 2; ++i) {
    v1::Event e;
    e.mutable_need_unmet()->set_postcode_district("LS6");
    e.mutable_need_unmet()->mutable_need()->set_category(v1::NEED_CATEGORY_DEBT_AND_MONEY);
    e.mutable_need_unmet()->add_reasons("none within reach");
    events::Seal(e, absl::StrCat("ref-unmet-", i), "test", absl::Now());
    ASSERT_TRUE(producer
                    ->Send(events::ToMessage(e, env->Topic(kafka::Topic::kNeedUnmet),
                                             absl::StrCat("ref-unmet-", i)))
                    .ok());
  }

  signpost::testing::ServiceProcess monitor(
      signpost::testing::BinaryPath("signpost-monitor"),
      {"--kafka-bootstrap", env->bootstrap, "--topic-prefix", env->prefix, "--metrics-listen",
       "127.0.0.1:0", "--lag-interval-ms", "200", "--group", "lag-test=signpost.referral.received",
       "--group", "never-read=signpost.referral.received+signpost.referral.matched"});
  ASSERT_TRUE(monitor.Start().ok());
  auto stub = v1::OpsService::NewStub(
      grpc::CreateChannel(monitor.address(), grpc::InsecureChannelCredentials()));
  v1::FlowSnapshot snapshot;
  auto lag_of = [&](const v1::FlowSnapshot& s, const std::string& group = "lag-test",
                    const std::string& topic =
                        "signpost.referral.received") -> const v1::GroupLag* {
    for (const auto& g : s.groups()) {
      if (g.group() == group && g.topic() == topic) return &g;
    }
    return nullptr;
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext context;
        if (!stub->GetFlowSnapshot(&context, v1::GetFlowSnapshotRequest(), &snapshot).ok()) {
          return false;
        }
        int64_t seen = 0;
        for (const auto& t : snapshot.topics()) {
          if (t.topic() == "signpost.referral.received") seen = t.messages_total();
        }
        return seen == kEvents && snapshot.latest_dead_letters_size() == 2 && lag_of(snapshot) &&
               snapshot.unmet_needs_size() == 1 && snapshot.unmet_needs(0).count() == 2;
      },
      absl::Seconds(30)))
      << monitor.Logs();

  const v1::GroupLag* lag = lag_of(snapshot);
  EXPECT_EQ(lag->topic(), "signpost.referral.received");
  EXPECT_EQ(lag->total_lag(), kEvents - processed);
  ASSERT_EQ(lag->partitions_size(), 6);
  for (const auto& p : lag->partitions()) {
    EXPECT_EQ(p.lag(), expected_lag[p.partition()]) << "partition " << p.partition();
    EXPECT_EQ(p.end(), per_partition[p.partition()]);
    // The oldest waiting message was produced at the start of this test.
    if (p.lag() > 0) {
      EXPECT_GT(p.oldest_waiting_seconds(), 0) << "partition " << p.partition();
    }
  }
  EXPECT_GT(lag->oldest_waiting_seconds(), 0);
  // A group that never committed is behind by everything the topics hold; an empty topic of
  // its has its partitions, none behind.
  const v1::GroupLag* never = lag_of(snapshot, "never-read");
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(never->total_lag(), kEvents);
  ASSERT_EQ(never->partitions_size(), 6);
  for (const auto& p : never->partitions()) {
    EXPECT_EQ(p.committed(), -1);
    EXPECT_EQ(p.lag(), per_partition[p.partition()]) << "partition " << p.partition();
  }
  const v1::GroupLag* empty = lag_of(snapshot, "never-read", "signpost.referral.matched");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->total_lag(), 0);
  EXPECT_EQ(empty->partitions_size(), 6);
  for (const auto& t : snapshot.topics()) {
    if (t.topic() != "signpost.referral.received") continue;
    // All were produced within the last minute: the one-minute window holds every one.
    EXPECT_NEAR(t.messages_per_second(), kEvents / 60.0, 1e-9);
    EXPECT_GT(t.bytes_per_second(), 0);
  }
  ASSERT_EQ(snapshot.dead_letters_size(), 1);
  EXPECT_EQ(snapshot.dead_letters(0).count(), 2);
  EXPECT_EQ(snapshot.dead_letters(0).reason(), "value is not a serialized signpost.v1.Event");
  EXPECT_EQ(snapshot.dead_letters(0).source_topic(), "signpost.referral.received");
  EXPECT_EQ(snapshot.latest_dead_letters(0).source_offset(), 41);
  EXPECT_EQ(snapshot.latest_dead_letters(0).group(), "signpost-matching");

  // The same figures as JSON, and the lag as a Prometheus gauge.
  httplib::Client http("127.0.0.1", monitor.metrics_port());
  auto api = http.Get("/api/flows");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 200);
  EXPECT_NE(api->body.find("\"group\":\"lag-test\""), std::string::npos) << api->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(
      metrics->body.find(absl::StrCat(
          "signpost_consumer_group_lag{group=\"lag-test\",topic=\"signpost.referral.received\"} ",
          kEvents - processed)),
      std::string::npos)
      << metrics->body;

  // The gap report, over gRPC and as CSV for the Integrated Care System.
  {
    grpc::ClientContext context;
    v1::GapReport report;
    ASSERT_TRUE(stub->GetGapReport(&context, v1::GapReportRequest(), &report).ok());
    ASSERT_EQ(report.rows_size(), 1);
    EXPECT_EQ(report.rows(0).unmet(), 2);
    grpc::ClientContext bad_context;
    v1::GapReportRequest bad;
    bad.set_since("yesterday");
    EXPECT_EQ(stub->GetGapReport(&bad_context, bad, &report).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  auto csv = http.Get("/api/gaps?format=csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->body,
            "postcode_district,need_category,unmet,reasons\n"
            "\"LS6\",debt_and_money,2,\"none within reach (2)\"\n");

  // A live watch delivers snapshots.
  grpc::ClientContext watch_context;
  v1::WatchFlowsRequest watch;
  watch.set_interval_seconds(1);
  auto reader = stub->WatchFlows(&watch_context, watch);
  v1::FlowSnapshot first, second;
  ASSERT_TRUE(reader->Read(&first));
  ASSERT_TRUE(reader->Read(&second));
  EXPECT_GT(second.at().seconds() * 1000000000LL + second.at().nanos(),
            first.at().seconds() * 1000000000LL + first.at().nanos());
  watch_context.TryCancel();
  EXPECT_EQ(monitor.Stop(), 0);
}

// With token keys the figures are for the ops role alone, on every call.
TEST(MonitorIntegrationTest, OnlyTheOpsRoleSeesTheFlows) {
  auto env = signpost::testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  signpost::testing::ServiceProcess monitor(
      signpost::testing::BinaryPath("signpost-monitor"),
      {"--kafka-bootstrap", env->bootstrap, "--topic-prefix", env->prefix, "--metrics-listen",
       "127.0.0.1:0"},
      {{"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()},
       {"SIGNPOST_TOKEN_LEEWAY_SECONDS", "0"}});
  ASSERT_TRUE(monitor.Start().ok());
  auto stub = v1::OpsService::NewStub(
      grpc::CreateChannel(monitor.address(), grpc::InsecureChannelCredentials()));
  // A watch ends when its token does.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auth::AttachBearerToken(
        context, signpost::testing::TestToken(signpost::testing::Ops(), absl::Seconds(3)));
    v1::WatchFlowsRequest request;
    request.set_interval_seconds(1);
    auto reader = stub->WatchFlows(&context, request);
    v1::FlowSnapshot one;
    int snapshots = 0;
    while (reader->Read(&one)) ++snapshots;
    EXPECT_GE(snapshots, 1);
    EXPECT_LE(snapshots, 5);
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  auto snapshot = [&](const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auth::AttachBearerToken(context, token);
    v1::FlowSnapshot out;
    return stub->GetFlowSnapshot(&context, v1::GetFlowSnapshotRequest(), &out).error_code();
  };
  using signpost::testing::TestToken;
  EXPECT_EQ(snapshot(TestToken(signpost::testing::Ops())), grpc::StatusCode::OK);
  EXPECT_EQ(snapshot(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(snapshot(TestToken(signpost::testing::Referrer({"B86001"}))),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(snapshot(TestToken(signpost::testing::LinkWorker("lw-1", "pcn-1"))),
            grpc::StatusCode::PERMISSION_DENIED);
  {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, TestToken(signpost::testing::DirectoryAdmin()));
    v1::GapReport report;
    EXPECT_EQ(stub->GetGapReport(&context, v1::GapReportRequest(), &report).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Provision against need: aggregates for the ops role, like the funnel.
  for (const auto& [token, expected] : std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"", grpc::StatusCode::UNAUTHENTICATED},
           {TestToken(signpost::testing::Referrer({"B86001"})),
            grpc::StatusCode::PERMISSION_DENIED},
           {TestToken(signpost::testing::Coordinator("n")), grpc::StatusCode::PERMISSION_DENIED},
           {TestToken(signpost::testing::Ops()), grpc::StatusCode::OK}}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auth::AttachBearerToken(context, token);
    v1::Provision provision;
    EXPECT_EQ(stub->GetProvision(&context, v1::ProvisionRequest(), &provision).error_code(),
              expected);
    if (expected == grpc::StatusCode::OK) EXPECT_EQ(provision.quintiles_size(), 5);
  }
  for (const auto& [token, expected] : std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"", grpc::StatusCode::UNAUTHENTICATED},
           {TestToken(signpost::testing::Coordinator("n")), grpc::StatusCode::PERMISSION_DENIED},
           {TestToken(signpost::testing::Ops()), grpc::StatusCode::OK}}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auth::AttachBearerToken(context, token);
    v1::WatchFlowsRequest request;
    request.set_interval_seconds(1);
    auto reader = stub->WatchFlows(&context, request);
    v1::FlowSnapshot first;
    bool read = reader->Read(&first);
    EXPECT_EQ(read, expected == grpc::StatusCode::OK);
    if (read) {
      context.TryCancel();
      (void)reader->Finish();
    } else {
      EXPECT_EQ(reader->Finish().error_code(), expected);
    }
  }
}

// A process run to its end: its exit status (as from waitpid) and everything it printed.
struct Ended {
  int status = -1;
  std::string log;
};

Ended RunToEnd(const std::vector<std::string>& args, absl::Duration timeout) {
  char pattern[] = "/tmp/signpost-monitor-start-XXXXXX";
  std::string log = std::string(mkdtemp(pattern)) + "/log";
  std::vector<std::string> all = {signpost::testing::BinaryPath("signpost-monitor")};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = {"SIGNPOST_INSECURE=true", "SIGNPOST_NO_AUTH=true"};
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  Ended ended;
  if (rc != 0) return ended;
  absl::Time deadline = absl::Now() + timeout;
  while (waitpid(pid, &ended.status, WNOHANG) != pid) {
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &ended.status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  ended.log = s.str();
  return ended;
}

using ::signpost::testing::TakenPort;

// A start that fails once the lag thread runs (a listener's port already taken) ends the process
// with an exit code and a message saying why, not in std::terminate.
TEST(MonitorIntegrationTest, AFailedStartEndsWithAnExitCodeAndAMessage) {
  auto env = signpost::testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  TakenPort taken;
  for (const auto& [option, message] : std::vector<std::pair<std::string, std::string>>{
           {"--metrics-listen", "cannot bind metrics listener on " + taken.address()},
           {"--listen", "cannot listen for gRPC on " + taken.address()}}) {
    std::vector<std::string> args = {"--kafka-bootstrap", env->bootstrap,      "--topic-prefix",
                                     env->prefix,         "--lag-interval-ms", "100"};
    if (option == "--listen") args.insert(args.end(), {"--metrics-listen", "127.0.0.1:0"});
    args.insert(args.end(), {option, taken.address()});
    Ended ended = RunToEnd(args, absl::Seconds(120));
    EXPECT_TRUE(WIFEXITED(ended.status))
        << option << ": ended by signal " << WTERMSIG(ended.status) << "\n"
        << ended.log;
    EXPECT_EQ(WIFEXITED(ended.status) ? WEXITSTATUS(ended.status) : -1, 1) << option;
    EXPECT_NE(ended.log.find(message), std::string::npos) << option << ":\n" << ended.log;
    EXPECT_EQ(ended.log.find("terminate"), std::string::npos) << option << ":\n" << ended.log;
  }
}

// Submissions (a protobuf ReferralSubmission, a FHIR bundle) and dead letters holding them are
// read by their content type: counted, never parsed as events, so protobuf logs nothing.
TEST(MonitorIntegrationTest, ReadsSubmissionsAndDeadLettersWithoutProtobufErrors) {
  auto env = signpost::testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  kafka::ProducerOptions producer_options;
  producer_options.bootstrap = env->bootstrap;
  auto producer = *kafka::KafkaProducer::Create(producer_options);
  v1::ReferralSubmission submission;
  v1::Referral* r = submission.mutable_referral();
  r->set_source_system("emis-north");
  r->set_source_referral_id("S-1");
  r->mutable_referrer()->set_ods_code("B86001");
  r->mutable_identity()->set_given_name("Amira");
  r->mutable_identity()->mutable_date_of_birth()->set_year(1950);
  r->mutable_identity()->mutable_date_of_birth()->set_month(4);
  r->mutable_identity()->mutable_date_of_birth()->set_day(2);
  r->add_needs()->set_category(v1::NEED_CATEGORY_LONELINESS);
  const std::string submitted = env->Topic(kafka::Topic::kReferralSubmitted);
  ASSERT_TRUE(producer
                  ->Send({submitted,
                          "emis-north/S-1",
                          submission.SerializeAsString(),
                          {{"content-type", "application/x-protobuf"}}})
                  .ok());
  std::ifstream bundle_file(std::string(SIGNPOST_SOURCE_DIR) +
                            "/tests/services/intake/data/referral_bundle.json");
  std::stringstream bundle;
  bundle << bundle_file.rdbuf();
  ASSERT_FALSE(bundle.str().empty());
  ASSERT_TRUE(producer
                  ->Send({submitted,
                          "emis-north/S-2",
                          bundle.str(),
                          {{"content-type", "application/fhir+json"}}})
                  .ok());
  ASSERT_TRUE(producer
                  ->Send({env->Topic(kafka::Topic::kDeadletter),
                          "emis-north/S-1",
                          submission.SerializeAsString(),
                          {{"dlq-reason", "intake could not read it"},
                           {"dlq-source-topic", submitted},
                           {"dlq-consumer-group", env->Group("signpost-intake-submissions")}}})
                  .ok());
  signpost::testing::ServiceProcess monitor(
      signpost::testing::BinaryPath("signpost-monitor"),
      {"--kafka-bootstrap", env->bootstrap, "--topic-prefix", env->prefix, "--metrics-listen",
       "127.0.0.1:0", "--lag-interval-ms", "200"});
  ASSERT_TRUE(monitor.Start().ok());
  auto stub = v1::OpsService::NewStub(
      grpc::CreateChannel(monitor.address(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext context;
        v1::FlowSnapshot snapshot;
        if (!stub->GetFlowSnapshot(&context, v1::GetFlowSnapshotRequest(), &snapshot).ok()) {
          return false;
        }
        int64_t seen = 0;
        for (const auto& t : snapshot.topics()) {
          if (t.topic() == "signpost.referral.submitted") seen = t.messages_total();
        }
        return seen == 2 && snapshot.dead_letters_size() == 1;
      },
      absl::Seconds(60)))
      << monitor.Logs();
  absl::SleepFor(absl::Seconds(1));  // the lag thread's snapshots too
  std::string logs = monitor.Logs();
  EXPECT_EQ(logs.find("libprotobuf"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("UTF-8"), std::string::npos) << logs;
  EXPECT_EQ(monitor.Stop(), 0);
}

// Kubernetes gRPC probes and grpc-health-probe -service=signpost.v1.OpsService ask by name.
TEST(MonitorIntegrationTest, HealthAnswersByTheServiceName) {
  auto env = signpost::testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  signpost::testing::ServiceProcess monitor(signpost::testing::BinaryPath("signpost-monitor"),
                                            {"--kafka-bootstrap", env->bootstrap, "--topic-prefix",
                                             env->prefix, "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(monitor.Start().ok());
  for (const std::string service : {"", "signpost.v1.OpsService"}) {
    auto serving = testing::CheckHealth(monitor.address(), service);
    EXPECT_TRUE(serving.ok()) << "'" << service << "': " << serving.status();
    EXPECT_EQ(serving.value_or(grpc::health::v1::HealthCheckResponse::UNKNOWN),
              grpc::health::v1::HealthCheckResponse::SERVING)
        << "'" << service << "'";
  }
  EXPECT_EQ(monitor.Stop(), 0);
}

}  // namespace
}  // namespace signpost::monitor
