#include "services/intake/submitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "common/status/field_violations.h"
#include "tests/services/intake/in_memory_stores.h"
#include "tests/services/intake/referral_builder.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"

namespace signpost::intake {
namespace {

using ::testing::HasSubstr;
using testing::ValidReferral;

class SubmitterTest : public ::testing::Test {
 protected:
  SubmitterTest()
      : submitter_(Options(), submissions_, statuses_, producer_, cipher_, metrics_,
                   [this] { return now_; }) {}

  static SubmitterOptions Options() {
    SubmitterOptions options;
    options.topic_prefix = "t.";
    options.lease = absl::Seconds(30);
    options.in_progress_wait = absl::Seconds(1);
    return options;
  }

  std::vector<v1::Event> Published(kafka::Topic topic) {
    std::vector<v1::Event> out;
    for (const auto& m : producer_.Sent(kafka::TopicName(topic, "t."))) {
      kafka::ConsumedMessage c;
      c.value = m.value;
      auto e = events::ParseEvent(c);
      EXPECT_TRUE(e.ok()) << e.status();
      out.push_back(*e);
    }
    return out;
  }

  absl::Time now_ = testing::TestNow();
  testing::InMemorySubmissionStore submissions_;
  testing::InMemoryStatusStore statuses_;
  signpost::testing::FakeProducer producer_;
  crypto::DataKeyring keys_ = signpost::testing::TestDataKeys();
  crypto::PersonalDetailsCipher cipher_{keys_};
  metrics::Registry metrics_;
  Submitter submitter_;
};

TEST_F(SubmitterTest, AcceptedReferralPublishesOneReceivedEventAndRecordsItsStatus) {
  auto result = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->duplicate);
  EXPECT_THAT(result->referral_id, ::testing::StartsWith("ref-"));
  EXPECT_EQ(result->priority.urgency, v1::URGENCY_PRIORITY);  // carer, ethnic minority

  auto events = Published(kafka::Topic::kReferralReceived);
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.envelope().referral_id(), result->referral_id);
  EXPECT_EQ(e.envelope().event_id(), Submitter::ReceivedEventId(result->referral_id));
  // Who the person is travels only sealed, and opens with the keyring.
  v1::Referral on_bus = e.referral_received().referral();
  EXPECT_FALSE(on_bus.has_identity());
  EXPECT_TRUE(on_bus.notes().empty());
  EXPECT_EQ(on_bus.sealed().key_id(), "test-2");
  EXPECT_EQ(on_bus.sealed().person_ref().size(), 64u);
  EXPECT_EQ(on_bus.SerializeAsString().find("9434765919"), std::string::npos);
  ASSERT_TRUE(cipher_.Open(on_bus, result->referral_id).ok());
  EXPECT_EQ(on_bus.identity().nhs_number(), "9434765919");
  EXPECT_EQ(e.referral_received().referral().profile().postcode_district(), "LS6");
  EXPECT_EQ(e.referral_received().priority(), v1::URGENCY_PRIORITY);
  EXPECT_EQ(e.referral_received().channel(), v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_THAT(e.referral_received().priority_reasons(), ::testing::Contains("PLUS group: carer"));
  EXPECT_EQ(producer_.Sent("t.signpost.referral.received")[0].key, result->referral_id);

  v1::GetReferralRequest get;
  get.set_referral_id(result->referral_id);
  auto status = submitter_.GetStatus(get);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::REFERRAL_STATE_RECEIVED);
  EXPECT_EQ(status->source().source_referral_id(), "EMIS-2026-000123");
}

TEST_F(SubmitterTest, SameSubmissionTwiceIsOneReferralAndOneEvent) {
  auto first = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  auto second = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_KAFKA_FHIR);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->referral_id, first->referral_id);
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 1u);
}

TEST_F(SubmitterTest, SameKeyDifferentContentIsAConflictNotAMerge) {
  ASSERT_TRUE(submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC).ok());
  v1::Referral changed = ValidReferral();
  changed.set_notes("Something else entirely");
  auto result = submitter_.Submit(changed, v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("different content"));
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 1u);
  auto rejected = Published(kafka::Topic::kReferralRejected);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].referral_rejected().source_referral_id(), "EMIS-2026-000123");
}

TEST_F(SubmitterTest, InvalidReferralIsRejectedWithEveryReasonAndNotPublished) {
  v1::Referral bad = ValidReferral();
  bad.mutable_identity()->set_nhs_number("9434765918");
  bad.clear_needs();
  auto result = submitter_.Submit(bad, v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(result.status()).size(), 2u);
  EXPECT_TRUE(Published(kafka::Topic::kReferralReceived).empty());
  auto rejected = Published(kafka::Topic::kReferralRejected);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].referral_rejected().violations_size(), 2);
  EXPECT_EQ(rejected[0].referral_rejected().violations(0).field(), "identity.nhs_number");
  EXPECT_EQ(producer_.Sent("t.signpost.referral.rejected")[0].key,
            "emis-leeds-north/EMIS-2026-000123");
}

TEST_F(SubmitterTest, BrokerDownFailsUnavailableAndTheRetrySucceedsExactlyOnce) {
  producer_.FailNext(1);
  auto failed = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Published(kafka::Topic::kReferralReceived).empty());

  auto retried = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->duplicate);
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 1u);
  auto again = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 1u);
}

TEST_F(SubmitterTest, RedisDownIsUnavailableAndNothingIsPublished) {
  submissions_.SetAvailable(false);
  auto result = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Published(kafka::Topic::kReferralReceived).empty());
}

TEST_F(SubmitterTest, AnAttemptThatDiedIsTakenOverAfterItsLeaseWithTheSameReferralId) {
  producer_.Hold(true);  // the first attempt claims, sends, and is never heard of again
  std::string first_id;
  submitter_.SubmitAsync(
      ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC, "",
      [](absl::StatusOr<SubmitResult>) { FAIL() << "the dead attempt answered"; });
  auto claimed = submissions_.FindReferralId({"emis-leeds-north", "EMIS-2026-000123"});
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  producer_.Hold(false);

  now_ += absl::Seconds(31);  // past the 30 s lease
  auto result = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->duplicate);
  EXPECT_EQ(result->referral_id, **claimed);
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 1u);
}

TEST_F(SubmitterTest, WithdrawPublishesAndIsIdempotent) {
  auto submitted = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(submitted.ok());
  v1::WithdrawReferralRequest request;
  request.set_referral_id(submitted->referral_id);
  request.set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
  request.set_detail("patient called the practice");
  auto first = submitter_.Withdraw(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_FALSE(first->already_withdrawn());
  auto second = submitter_.Withdraw(request);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_withdrawn());

  auto events = Published(kafka::Topic::kReferralReceived);
  ASSERT_EQ(events.size(), 2u);  // received, then one withdrawal
  EXPECT_TRUE(events[1].referral_withdrawn().purge_personal_data());
  EXPECT_EQ(events[1].envelope().referral_id(), submitted->referral_id);
}

TEST_F(SubmitterTest, WithdrawRejectsBadRequestsClearly) {
  v1::WithdrawReferralRequest request;
  auto missing = submitter_.Withdraw(request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(missing.status()).size(), 2u);
  request.set_referral_id("ref-unknown");
  request.set_reason(v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER);
  EXPECT_EQ(submitter_.Withdraw(request).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace signpost::intake
