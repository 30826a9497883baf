// Intake's consumer of signpost.referral.submitted over in-memory stores: what becomes of each
// message (done, retried) and what the sender is sent, under the consumers' one retry rule.
#include "services/intake/submissions_handler.h"

#include <gtest/gtest.h>

#include "common/kafka/topics.h"
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

}  // namespace
}  // namespace signpost::intake
