// Intake's consumer of signpost.referral.submitted over in-memory stores: what becomes of each
// message (done, retried) and what the sender is sent, under the consumers' one retry rule.
#include "services/intake/submissions_handler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/kafka/topics.h"
#include "services/intake/fhir_referral.h"
#include "tests/services/intake/in_memory_stores.h"
#include "tests/services/intake/referral_builder.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"

namespace signpost::intake {
namespace {

using Kind = kafka::Outcome::Kind;

kafka::ConsumedMessage Submitted(int32_t partition, const std::string& source_referral_id) {
  v1::ReferralSubmission submission;
  *submission.mutable_referral() = testing::ValidReferral();
  submission.mutable_referral()->set_source_referral_id(source_referral_id);
  kafka::ConsumedMessage m;
  m.topic = kafka::TopicName(kafka::Topic::kReferralSubmitted, "t.");
  m.partition = partition;
  m.value = submission.SerializeAsString();
  m.timestamp_ms = absl::ToUnixMillis(testing::TestNow());
  return m;
}

class SubmissionsHandlerTest : public ::testing::Test {
 protected:
  SubmissionsHandlerTest()
      : submitter_(Options(), submissions_, statuses_, producer_, cipher_, metrics_,
                   [] { return testing::TestNow(); }),
        handler_(submitter_) {}

  static SubmitterOptions Options() {
    SubmitterOptions options;
    options.topic_prefix = "t.";
    options.lease = absl::Seconds(30);
    options.in_progress_wait = absl::Seconds(1);
    return options;
  }

  std::vector<kafka::Outcome> Handle(const std::vector<kafka::ConsumedMessage>& batch) {
    return handler_.Handle(batch);
  }
  size_t SentOn(kafka::Topic topic) const {
    return producer_.Sent(kafka::TopicName(topic, "t.")).size();
  }

  testing::InMemorySubmissionStore submissions_;
  testing::InMemoryStatusStore statuses_;
  signpost::testing::FakeProducer producer_;
  crypto::DataKeyring keys_ = signpost::testing::TestDataKeys();
  crypto::PersonalDetailsCipher cipher_{keys_};
  metrics::Registry metrics_;
  Submitter submitter_;
  SubmissionsHandler handler_;
};

TEST_F(SubmissionsHandlerTest, AValidSubmissionIsReceivedOnceHoweverOftenItIsDelivered) {
  auto message = Submitted(0, "EMIS-1");
  EXPECT_EQ(Handle({message})[0].kind, Kind::kDone);
  EXPECT_EQ(Handle({message})[0].kind, Kind::kDone);
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 1u);
}

TEST_F(SubmissionsHandlerTest, AnUnreadableSubmissionIsRejectedToItsSenderNotSetAside) {
  kafka::ConsumedMessage garbage = Submitted(0, "EMIS-1");
  garbage.value = "not a submission";
  garbage.key = "emis-leeds-north";
  auto outcomes = Handle({garbage});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  EXPECT_EQ(SentOn(kafka::Topic::kReferralRejected), 1u);
}

TEST_F(SubmissionsHandlerTest, WhileRedisIsDownSubmissionsAreRetriedAndNoneIsLost) {
  submissions_.SetAvailable(false);
  auto outcomes = Handle({Submitted(0, "EMIS-1"), Submitted(1, "EMIS-2")});
  for (const auto& o : outcomes) EXPECT_EQ(o.kind, Kind::kRetry) << o.reason;
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 0u);
  submissions_.SetAvailable(true);
  outcomes = Handle({Submitted(0, "EMIS-1"), Submitted(1, "EMIS-2")});
  for (const auto& o : outcomes) EXPECT_EQ(o.kind, Kind::kDone) << o.reason;
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 2u);
}

TEST_F(SubmissionsHandlerTest, ARetriedSubmissionHoldsBackTheRestOfItsPartitionOnly) {
  producer_.FailNext(1);  // the first send: EMIS-1's received event
  auto outcomes = Handle({Submitted(0, "EMIS-1"), Submitted(0, "EMIS-2"), Submitted(1, "EMIS-3")});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].kind, Kind::kRetry);
  EXPECT_EQ(outcomes[1].kind, Kind::kRetry);  // not handled now: it comes again after EMIS-1
  EXPECT_EQ(outcomes[2].kind, Kind::kDone) << outcomes[2].reason;
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 1u);  // EMIS-3's
}

kafka::ConsumedMessage FhirMessage(const std::string& file) {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/intake/data/" + file);
  std::stringstream text;
  text << in.rdbuf();
  kafka::ConsumedMessage m;
  m.topic = kafka::TopicName(kafka::Topic::kReferralSubmitted, "t.");
  m.key = "emis-leeds-north/EMIS-BARS-000456";
  m.value = text.str();
  m.headers = {{"content-type", std::string(kFhirJsonContentType)}};
  m.timestamp_ms = absl::ToUnixMillis(testing::TestNow());
  return m;
}

// The BaRS messages POST /fhir/$process-message takes: the referral is received, its
// cancellation withdraws it, and a cancellation again is refused (nothing more is published).
TEST_F(SubmissionsHandlerTest, BarsReferralAndCancellationMessagesAreTakenAsOverHttps) {
  auto outcomes = Handle({FhirMessage("bars_referral_message.json")});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  ASSERT_EQ(SentOn(kafka::Topic::kReferralReceived), 1u);
  EXPECT_EQ(SentOn(kafka::Topic::kReferralRejected), 0u);

  outcomes = Handle({FhirMessage("bars_cancellation_message.json")});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  v1::GetReferralRequest get;
  get.mutable_source()->set_source_system("emis-leeds-north");
  get.mutable_source()->set_source_referral_id("EMIS-BARS-000456");
  auto state = submitter_.GetStatus(get);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::REFERRAL_STATE_WITHDRAWN);
  // Withdrawals go out on the referral's own topic, after its received event.
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 2u);

  outcomes = Handle({FhirMessage("bars_cancellation_message.json")});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  EXPECT_EQ(SentOn(kafka::Topic::kReferralReceived), 2u);
}

// A cancellation naming another practice than the referral's does not withdraw it.
TEST_F(SubmissionsHandlerTest, AKafkaCancellationFromAnotherPracticeIsRefused) {
  EXPECT_EQ(Handle({FhirMessage("bars_referral_message.json")})[0].kind, Kind::kDone);
  kafka::ConsumedMessage other = FhirMessage("bars_cancellation_message.json");
  size_t at = other.value->find("\"B86001\"");
  ASSERT_NE(at, std::string::npos);
  other.value->replace(at, 8, "\"C81001\"");
  EXPECT_EQ(Handle({other})[0].kind, Kind::kDone);
  v1::GetReferralRequest get;
  get.mutable_source()->set_source_system("emis-leeds-north");
  get.mutable_source()->set_source_referral_id("EMIS-BARS-000456");
  auto state = submitter_.GetStatus(get);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::REFERRAL_STATE_RECEIVED);
}

}  // namespace
}  // namespace signpost::intake
