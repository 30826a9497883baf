// signpost-intake as a process against the real broker (ctest fixture) and a real redis-server.
#include <httplib.h>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/submissions_handler.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tests/services/intake/referral_builder.h"
#include "tests/support/kafka_env.h"
#include "tests/support/kafka_redis_test.h"
#include "tests/support/redis_server.h"
#include "tests/support/service_process.h"
#include "tests/support/test_tokens.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

namespace signpost::intake {
namespace {

using signpost::testing::KafkaEnv;
using signpost::testing::ReadTopic;
using ::testing::HasSubstr;

std::vector<v1::Event> EventsOn(const std::string& bootstrap, const std::string& topic) {
  auto messages = ReadTopic(bootstrap, topic);
  EXPECT_TRUE(messages.ok()) << messages.status();
  std::vector<v1::Event> out;
  for (const auto& m : messages.value_or(std::vector<kafka::ConsumedMessage>{})) {
    auto e = events::ParseEvent(m);
    if (e.ok()) out.push_back(*e);
  }
  return out;
}

using signpost::testing::WaitUntil;

std::unique_ptr<signpost::testing::ServiceProcess> StartIntake(const std::string& bootstrap,
                                                               const std::string& prefix,
                                                               const std::string& redis,
                                                               int delivery_timeout_ms = 10000) {
  auto intake = std::make_unique<signpost::testing::ServiceProcess>(
      signpost::testing::BinaryPath("signpost-intake"),
      std::vector<std::string>{"--kafka-bootstrap", bootstrap, "--topic-prefix", prefix, "--redis",
                               redis, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                               "--delivery-timeout-ms", std::to_string(delivery_timeout_ms)});
  absl::Status started = intake->Start();
  EXPECT_TRUE(started.ok()) << started;
  return intake;
}

class IntakeIntegrationTest : public signpost::testing::KafkaRedisTest {
 protected:
  void SetUp() override {
    KafkaRedisTest::SetUp();
    if (HasFatalFailure()) return;
    intake_ = StartIntake(env_.bootstrap, env_.prefix, redis_.address());
    channel_ = grpc::CreateChannel(intake_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::IntakeService::NewStub(channel_);
  }
  void TearDown() override {
    if (HasFailure() && intake_) std::cerr << "intake log:\n" << intake_->Logs();
  }

  grpc::Status Submit(const v1::Referral& referral, v1::SubmitReferralResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = referral;
    return stub_->SubmitReferral(&context, request, response);
  }

  std::vector<v1::Event> ReceivedFor(const std::string& referral_id) {
    std::vector<v1::Event> out;
    for (auto& e : EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived))) {
      if (e.envelope().referral_id() == referral_id && e.has_referral_received()) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<signpost::testing::ServiceProcess> intake_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(IntakeIntegrationTest, GrpcSubmissionYieldsExactlyOneReceivedEventAndDuplicatesNone) {
  v1::SubmitReferralResponse first;
  grpc::Status status = Submit(testing::ValidReferral(), &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(first.duplicate());
  EXPECT_EQ(first.priority(), v1::URGENCY_PRIORITY);

  // The reply came after the broker's acknowledgement: the event is there now.
  auto received = ReceivedFor(first.referral_id());
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].referral_received().referral().source_referral_id(), "EMIS-2026-000123");

  v1::SubmitReferralResponse second;
  ASSERT_TRUE(Submit(testing::ValidReferral(), &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.referral_id(), first.referral_id());
  EXPECT_EQ(ReceivedFor(first.referral_id()).size(), 1u);

  grpc::ClientContext context;
  v1::GetReferralRequest get;
  get.mutable_source()->set_source_system("emis-leeds-north");
  get.mutable_source()->set_source_referral_id("EMIS-2026-000123");
  v1::GetReferralResponse state;
  ASSERT_TRUE(stub_->GetReferral(&context, get, &state).ok());
  EXPECT_EQ(state.referral_id(), first.referral_id());
  EXPECT_EQ(state.state(), v1::REFERRAL_STATE_RECEIVED);
  EXPECT_EQ(state.referrer_ods_code(), "B86001");

  httplib::Client metrics("127.0.0.1", intake_->metrics_port());
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_THAT(scraped->body,
              HasSubstr("signpost_intake_submissions_total{channel=\"grpc\","
                        "result=\"accepted\",source_system=\"emis-leeds-north\"} 1\n"));
  EXPECT_THAT(scraped->body,
              HasSubstr("signpost_intake_submissions_total{channel=\"grpc\","
                        "result=\"duplicate\",source_system=\"emis-leeds-north\"} 1\n"));
  EXPECT_THAT(scraped->body,
              HasSubstr("signpost_intake_submit_seconds_count{channel=\"grpc\"} 2\n"));
  EXPECT_EQ(intake_->Stop(), 0) << "SIGTERM must end the service cleanly";
}

TEST_F(IntakeIntegrationTest, BadSubmissionGetsInvalidArgumentWithFieldViolations) {
  v1::Referral bad = testing::ValidReferral();
  bad.mutable_identity()->set_nhs_number("9434765918");
  v1::SubmitReferralResponse response;
  grpc::Status status = Submit(bad, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  auto violations = ViolationsOf(FromGrpcStatus(status));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "identity.nhs_number");

  v1::Referral no_consent = testing::ValidReferral();
  no_consent.set_source_referral_id("EMIS-2026-000124");
  no_consent.mutable_consent()->set_referral_consent(false);
  EXPECT_EQ(Submit(no_consent, &response).error_code(), grpc::FAILED_PRECONDITION);

  v1::Referral conflicting = testing::ValidReferral();
  ASSERT_TRUE(Submit(conflicting, &response).ok());
  conflicting.set_notes("changed");
  grpc::Status conflict = Submit(conflicting, &response);
  EXPECT_EQ(conflict.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_THAT(conflict.error_message(), HasSubstr("different content"));
}

TEST_F(IntakeIntegrationTest, OversizedInputIsRefusedWithTheLimitAndTheServiceGoesOn) {
  // Over the gRPC message limit (4 MiB): refused before it is read, saying so.
  v1::Referral huge = testing::ValidReferral();
  huge.set_notes(std::string(5 * 1024 * 1024, 'x'));
  v1::SubmitReferralResponse response;
  grpc::Status too_big = Submit(huge, &response);
  EXPECT_EQ(too_big.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_THAT(too_big.error_message(), HasSubstr("larger than max"));
  // Within the message limit but over a field's: the field is named.
  v1::Referral long_notes = testing::ValidReferral();
  long_notes.set_notes(std::string(64 * 1024, 'x'));
  grpc::Status too_long = Submit(long_notes, &response);
  EXPECT_EQ(too_long.error_code(), grpc::INVALID_ARGUMENT);
  auto violations = ViolationsOf(FromGrpcStatus(too_long));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "notes");
  // Nothing of either was published, and the next referral is accepted.
  ASSERT_TRUE(Submit(testing::ValidReferral(), &response).ok());
  EXPECT_EQ(ReceivedFor(response.referral_id()).size(), 1u);
}

TEST_F(IntakeIntegrationTest, KafkaSubmissionsProtobufAndFhirAcceptedMalformedRejected) {
  kafka::ProducerOptions options;
  options.bootstrap = env_.bootstrap;
  auto producer = kafka::KafkaProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  std::string topic = env_.Topic(kafka::Topic::kReferralSubmitted);

  // A malformed one first, then good ones: the bad one must not hold up the rest.
  ASSERT_TRUE((*producer)
                  ->Send({topic,
                          "emis-leeds-north/BROKEN-1",
                          std::string("\x0a\x05garbage"),
                          {{"content-type", std::string(kProtobufSubmissionContentType)}}})
                  .ok());
  v1::Referral invalid = testing::ValidReferral();
  invalid.set_source_referral_id("EMIS-INVALID-1");
  invalid.mutable_identity()->set_postcode("NOT A POSTCODE");
  invalid.clear_needs();
  v1::ReferralSubmission invalid_submission;
  *invalid_submission.mutable_referral() = invalid;
  ASSERT_TRUE((*producer)
                  ->Send({topic,
                          "emis-leeds-north/EMIS-INVALID-1",
                          invalid_submission.SerializeAsString(),
                          {}})
                  .ok());
  v1::Referral good = testing::ValidReferral();
  good.set_source_referral_id("EMIS-KAFKA-1");
  v1::ReferralSubmission submission;
  *submission.mutable_referral() = good;
  ASSERT_TRUE((*producer)
                  ->Send({topic,
                          "emis-leeds-north/EMIS-KAFKA-1",
                          submission.SerializeAsString(),
                          {{"content-type", std::string(kProtobufSubmissionContentType)}}})
                  .ok());
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) +
                   "/tests/services/intake/data/referral_bundle.json");
  std::stringstream bundle;
  bundle << in.rdbuf();
  ASSERT_TRUE((*producer)
                  ->Send({topic,
                          "emis-leeds-north/EMIS-2026-000123",
                          bundle.str(),
                          {{"content-type", std::string(kFhirJsonContentType)}}})
                  .ok());

  std::vector<v1::Event> accepted;
  ASSERT_TRUE(WaitUntil([&] {
    accepted = EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived));
    return accepted.size() >= 2;
  }));
  absl::SleepFor(absl::Seconds(1));
  accepted = EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived));
  std::set<std::string> ids;
  for (const auto& e : accepted) ids.insert(e.referral_received().referral().source_referral_id());
  EXPECT_EQ(ids, (std::set<std::string>{"EMIS-KAFKA-1", "EMIS-2026-000123"}));
  EXPECT_EQ(accepted.size(), 2u);
  for (const auto& e : accepted) {
    auto channel = e.referral_received().channel();
    EXPECT_EQ(channel, e.referral_received().referral().source_referral_id() == "EMIS-KAFKA-1"
                           ? v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF
                           : v1::SUBMISSION_CHANNEL_KAFKA_FHIR);
  }

  std::vector<kafka::ConsumedMessage> rejected;
  ASSERT_TRUE(WaitUntil([&] {
    rejected = ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kReferralRejected))
                   .value_or(std::vector<kafka::ConsumedMessage>{});
    return rejected.size() >= 2;
  }));
  std::map<std::string, v1::ReferralRejected> by_key;
  for (const auto& m : rejected) by_key[m.key] = events::ParseEvent(m)->referral_rejected();
  ASSERT_TRUE(by_key.contains("emis-leeds-north/BROKEN-1"));
  EXPECT_THAT(by_key["emis-leeds-north/BROKEN-1"].reason(), HasSubstr("ReferralSubmission"));
  ASSERT_TRUE(by_key.contains("emis-leeds-north/EMIS-INVALID-1"));
  const auto& invalid_rejection = by_key["emis-leeds-north/EMIS-INVALID-1"];
  std::set<std::string> fields;
  for (const auto& v : invalid_rejection.violations()) fields.insert(v.field());
  EXPECT_EQ(fields, (std::set<std::string>{"identity.postcode", "needs"}));
}

TEST_F(IntakeIntegrationTest, WithdrawalIsPublishedAndShownInTheStatus) {
  v1::SubmitReferralResponse submitted;
  ASSERT_TRUE(Submit(testing::ValidReferral(), &submitted).ok());
  grpc::ClientContext context;
  v1::WithdrawReferralRequest request;
  request.set_referral_id(submitted.referral_id());
  request.set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
  v1::WithdrawReferralResponse response;
  ASSERT_TRUE(stub_->WithdrawReferral(&context, request, &response).ok());
  EXPECT_EQ(response.state(), v1::REFERRAL_STATE_WITHDRAWN);

  bool seen = false;
  for (const auto& e : EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived))) {
    if (e.has_referral_withdrawn() && e.envelope().referral_id() == submitted.referral_id()) {
      seen = e.referral_withdrawn().purge_personal_data();
    }
  }
  EXPECT_TRUE(seen);
  grpc::ClientContext get_context;
  v1::GetReferralRequest get;
  get.set_referral_id(submitted.referral_id());
  v1::GetReferralResponse state;
  ASSERT_TRUE(stub_->GetReferral(&get_context, get, &state).ok());
  EXPECT_EQ(state.state(), v1::REFERRAL_STATE_WITHDRAWN);
  ASSERT_EQ(state.history_size(), 2);
  EXPECT_EQ(state.history(0).state(), v1::REFERRAL_STATE_RECEIVED);
  EXPECT_EQ(state.history(1).state(), v1::REFERRAL_STATE_WITHDRAWN);
}

// Intake with token keys: each call's bearer token decides, and a refusal says nothing of the
// referral.
TEST_F(IntakeIntegrationTest, ReferrersSubmitSeeAndWithdrawOnlyTheirOwnOrganisationsReferrals) {
  using signpost::testing::Referrer;
  using signpost::testing::TestToken;
  signpost::testing::ServiceProcess intake(
      signpost::testing::BinaryPath("signpost-intake"),
      std::vector<std::string>{"--kafka-bootstrap", env_.bootstrap, "--topic-prefix", env_.prefix,
                               "--redis", redis_.address(), "--metrics-listen", "127.0.0.1:0"},
      {{"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()}});
  ASSERT_TRUE(intake.Start().ok());
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake.address(), grpc::InsecureChannelCredentials()));
  auto submit = [&](const v1::Referral& referral, const std::string& token,
                    v1::SubmitReferralResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auth::AttachBearerToken(context, token);
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = referral;
    v1::SubmitReferralResponse ignored;
    return stub->SubmitReferral(&context, request, response ? response : &ignored);
  };
  v1::Referral referral = testing::ValidReferral();  // from practice B86001
  const std::string own = TestToken(Referrer({"B86001", "B86002"}));
  const std::string other = TestToken(Referrer({"C81001"}));

  grpc::Status none = submit(referral, "");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(submit(referral, TestToken(Referrer({"B86001"}), -absl::Minutes(5))).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(submit(referral, TestToken(Referrer({"B86001"}), absl::Hours(1),
                                       signpost::testing::UntrustedTokenSigningKeyPath()))
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status foreign = submit(referral, other);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(submit(referral, TestToken(signpost::testing::Ops())).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (const grpc::Status& refused : {none, foreign}) {
    EXPECT_EQ(refused.error_message().find(referral.identity().family_name()), std::string::npos);
    EXPECT_EQ(refused.error_message().find(referral.identity().nhs_number()), std::string::npos);
  }
  // Nothing refused reached the topic.
  EXPECT_TRUE(EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived)).empty());

  v1::SubmitReferralResponse accepted;
  grpc::Status ok = submit(referral, own, &accepted);
  ASSERT_TRUE(ok.ok()) << ok.error_message();

  auto get = [&](const std::string& token) {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::GetReferralRequest request;
    request.set_referral_id(accepted.referral_id());
    v1::GetReferralResponse response;
    return stub->GetReferral(&context, request, &response);
  };
  auto withdraw = [&](const std::string& token) {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::WithdrawReferralRequest request;
    request.set_referral_id(accepted.referral_id());
    request.set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
    v1::WithdrawReferralResponse response;
    return stub->WithdrawReferral(&context, request, &response);
  };
  EXPECT_TRUE(get(own).ok());
  grpc::Status unseen = get(other);
  EXPECT_EQ(unseen.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(unseen.error_message().find("B86001"), std::string::npos);
  EXPECT_EQ(get("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(withdraw(other).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(withdraw(TestToken(signpost::testing::LinkWorker("lw-1", "pcn-1"))).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The refused withdrawal changed nothing; the referrer's own goes through.
  int withdrawals = 0;
  for (const auto& e : EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived))) {
    withdrawals += e.has_referral_withdrawn();
  }
  EXPECT_EQ(withdrawals, 0);
  grpc::Status withdrawn = withdraw(own);
  EXPECT_TRUE(withdrawn.ok()) << withdrawn.error_message();
  std::string withdrawn_by;
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& e : EventsOn(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived))) {
      if (e.has_referral_withdrawn()) withdrawn_by = e.referral_withdrawn().withdrawn_by();
    }
    return !withdrawn_by.empty();
  }));
  EXPECT_EQ(withdrawn_by, "referrer:gp-system");  // the token's caller, not the request's claim
}

// Every broker down: the submission fails UNAVAILABLE and nothing is recorded; once the broker is
// back the same submission succeeds, once. This test runs a Kafka of its own to stop.
TEST(IntakeBrokerOutageTest, UnavailableWhileDownThenAcceptedExactlyOnce) {
  std::string dir = ::testing::TempDir() + "/intake-outage-kafka-" + std::to_string(getpid());
  std::string kafka = signpost::testing::KafkaTool();
  ASSERT_EQ(std::system((kafka + " start --dir " + dir + " >/dev/null").c_str()), 0);
  std::ifstream in(dir + "/bootstrap");
  std::string bootstrap;
  std::getline(in, bootstrap);
  signpost::testing::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  auto intake = StartIntake(bootstrap, "", redis.address(), /*delivery_timeout_ms=*/3000);
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake->address(), grpc::InsecureChannelCredentials()));
  auto submit = [&](v1::SubmitReferralResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = testing::ValidReferral();
    return stub->SubmitReferral(&context, request, response);
  };

  v1::SubmitReferralResponse response;
  ASSERT_TRUE(submit(&response).ok());  // the connection to the broker is established
  std::string first_id = response.referral_id();

  v1::Referral second = testing::ValidReferral();
  ASSERT_EQ(std::system((kafka + " stop --dir " + dir).c_str()), 0);
  grpc::Status down;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = second;
    request.mutable_referral()->set_source_referral_id("EMIS-OUTAGE-1");
    down = stub->SubmitReferral(&context, request, &response);
  }
  EXPECT_EQ(down.error_code(), grpc::UNAVAILABLE) << down.error_message();

  ASSERT_EQ(std::system((kafka + " start --dir " + dir + " >/dev/null").c_str()), 0);
  grpc::Status up;
  for (int attempt = 0; attempt < 10; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = second;
    request.mutable_referral()->set_source_referral_id("EMIS-OUTAGE-1");
    up = stub->SubmitReferral(&context, request, &response);
    if (up.ok()) break;
  }
  ASSERT_TRUE(up.ok()) << up.error_message() << "\n" << intake->Logs();
  EXPECT_FALSE(response.duplicate());
  int events = 0;
  for (const auto& e : EventsOn(bootstrap, "signpost.referral.received")) {
    if (e.has_referral_received() &&
        e.referral_received().referral().source_referral_id() == "EMIS-OUTAGE-1") {
      ++events;
    }
  }
  EXPECT_EQ(events, 1);
  intake->Stop();
  std::system((kafka + " stop --dir " + dir + " >/dev/null").c_str());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace signpost::intake
