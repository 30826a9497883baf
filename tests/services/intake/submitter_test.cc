#include "services/intake/submitter.h"

#include <gmock/gmock.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "common/status/field_violations.h"
#include "services/intake/fhir_referral.h"
#include "tests/services/intake/in_memory_stores.h"
#include "tests/services/intake/referral_builder.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"

namespace signpost::intake {
namespace {

using ::testing::HasSubstr;
using testing::ValidReferral;

// A referral's fingerprint as a submission record holds it, worked out here and not by the
// submitter: SHA-256 (hex) of its deterministic serialization.
std::string FingerprintOf(const v1::Referral& referral) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    referral.SerializeToCodedStream(&out);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

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

  // Claims are made on the submitter's own thread, after SubmitAsync returns: what a test waits
  // for before it goes on. False if it has not come true in 30 s.
  static bool Eventually(const std::function<bool()>& condition) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (!condition()) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }
  bool HeldSends(size_t n) {
    return Eventually([&] { return producer_.HeldCount() == n; });
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
  // The age on the day it arrived (born 14 March 1948), whatever fingerprinting did to it.
  EXPECT_EQ(e.referral_received().referral().profile().age_years(),
            NormaliseReferral(ValidReferral(), now_).profile().age_years());
  EXPECT_GT(e.referral_received().referral().profile().age_years(), 70);
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
      {ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC},
      [](absl::StatusOr<SubmitResult>) { FAIL() << "the dead attempt answered"; });
  ASSERT_TRUE(HeldSends(1));
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

// Issue 22: an event id names one content. Every copy of the received event, whichever attempt
// sent it, is the same Kafka record: key, value (envelope time, trace, sealed details) and headers.
std::string HeadersText(const kafka::Headers& headers) {
  std::string out;
  for (const auto& h : headers) absl::StrAppend(&out, h.key, "=", h.value, "\n");
  return out;
}
void ExpectSameRecord(const kafka::OutgoingMessage& first, const kafka::OutgoingMessage& again) {
  EXPECT_EQ(again.key, first.key);
  EXPECT_TRUE(again.value == first.value) << "the republished event differs from the first";
  EXPECT_EQ(HeadersText(again.headers), HeadersText(first.headers));
}

// A send reported failed (its delivery timed out while the broker stalled) whose record the
// broker appends all the same once it resumes: the retry, later, by another channel and trace,
// republishes the first attempt's record, not a new one under the same event id.
TEST_F(SubmitterTest, ARetryAfterADeliveryTimeoutRepublishesTheFirstAttemptsRecord) {
  producer_.Hold(true);
  absl::Notification answered;
  absl::Status first_answer;
  submitter_.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_KAFKA_FHIR,
                          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                         [&](absl::StatusOr<SubmitResult> r) {
                           first_answer = r.status();
                           answered.Notify();
                         });
  ASSERT_TRUE(HeldSends(1));
  producer_.Hold(false);
  now_ += absl::Seconds(10);
  producer_.ReleaseHeld(absl::UnavailableError("Local: Message timed out"),
                        /*landed_anyway=*/true);
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(first_answer.code(), absl::StatusCode::kUnavailable) << first_answer;

  now_ += absl::Seconds(5);
  auto retried = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->duplicate);
  auto sent = producer_.Sent("t.signpost.referral.received");
  ASSERT_EQ(sent.size(), 2u);
  ExpectSameRecord(sent[0], sent[1]);
  auto again = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->referral_id, retried->referral_id);
  EXPECT_EQ(producer_.Sent("t.signpost.referral.received").size(), 2u);
}

// An attempt that died mid-send (or stalled past its lease) and whose record lands after another
// attempt took the submission over: both copies are the same record.
TEST_F(SubmitterTest, ATakenOverAttemptRepublishesTheRecordTheFirstAttemptSent) {
  producer_.Hold(true);
  submitter_.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC},
                         [](absl::StatusOr<SubmitResult>) {});
  ASSERT_TRUE(HeldSends(1));
  producer_.Hold(false);
  now_ += absl::Seconds(31);  // past the 30 s lease
  auto taken_over = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF);
  ASSERT_TRUE(taken_over.ok()) << taken_over.status();
  producer_.ReleaseHeld();  // the first attempt's record lands after all
  auto sent = producer_.Sent("t.signpost.referral.received");
  ASSERT_EQ(sent.size(), 2u);
  ExpectSameRecord(sent[0], sent[1]);
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

// Issue 22, item 5: the fingerprint is of what the sender sent, not of the age derived from the
// day: the identical referral sent again after the person's birthday is a duplicate.
TEST_F(SubmitterTest, AnIdenticalResubmissionAfterABirthdayIsTheSameReferral) {
  v1::Referral referral = ValidReferral();  // born 14 March 1948
  now_ = absl::FromCivil(absl::CivilSecond(2027, 3, 13, 12, 0, 0), absl::UTCTimeZone());
  auto first = submitter_.Submit(referral, v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(first.ok()) << first.status();
  now_ += absl::Hours(48);  // 78 then, 79 now
  auto again = submitter_.Submit(referral, v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->referral_id, first->referral_id);
  EXPECT_TRUE(Published(kafka::Topic::kReferralRejected).empty());
}

// Canonical form, not raw bytes: the same referral as a FHIR bundle is the same referral.
TEST_F(SubmitterTest, TheSameReferralByTheOtherChannelIsADuplicate) {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) +
                   "/tests/services/intake/data/referral_bundle.json");
  std::stringstream bundle;
  bundle << in.rdbuf();
  auto from_fhir = ReferralFromFhirBundle(bundle.str());
  ASSERT_TRUE(from_fhir.ok()) << from_fhir.status();
  auto first = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  auto second = submitter_.Submit(*from_fhir, v1::SUBMISSION_CHANNEL_KAFKA_FHIR);
  ASSERT_TRUE(first.ok() && second.ok()) << second.status();
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->referral_id, first->referral_id);
}

// A record written by intake before the fix (the fingerprint of the normalised referral, age
// included) still recognises its resubmission, and takes the new fingerprint from then on.
TEST_F(SubmitterTest, ASubmissionRecordedByTheEarlierIntakeIsStillRecognised) {
  submissions_.Plant({"emis-leeds-north", "EMIS-2026-000123"},
                     FingerprintOf(NormaliseReferral(ValidReferral(), now_)), "ref-earlier",
                     /*published=*/true, now_);
  auto again = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->referral_id, "ref-earlier");
  now_ += absl::Hours(24 * 200);  // past a birthday: now it is the new fingerprint that matches
  auto later = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->referral_id, "ref-earlier");
}

// A record the earlier intake made before the person's birthday (its fingerprint holds the age
// then, one less than today's) is still recognised when the same referral comes after it.
TEST_F(SubmitterTest, ARecordFromTheEarlierIntakeBeforeABirthdayIsRecognisedAfterIt) {
  // Born 14 March 1948: recorded on 13 March 2027 (aged 78), resubmitted on 15 March (79).
  const absl::Time recorded_at =
      absl::FromCivil(absl::CivilSecond(2027, 3, 13, 12, 0, 0), absl::UTCTimeZone());
  v1::Referral then = NormaliseReferral(ValidReferral(), recorded_at);
  ASSERT_EQ(then.profile().age_years(), 78);
  submissions_.Plant({"emis-leeds-north", "EMIS-2026-000123"}, FingerprintOf(then),
                     "ref-before-the-birthday", /*published=*/true, recorded_at);
  now_ = recorded_at + absl::Hours(48);
  auto again = submitter_.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->referral_id, "ref-before-the-birthday");
  EXPECT_TRUE(Published(kafka::Topic::kReferralRejected).empty());
  EXPECT_TRUE(Published(kafka::Topic::kReferralReceived).empty());
}

// Item 7: a rejection's id derives from what was sent, so a redelivery is the same event; and an
// event id names one content: dated by the Kafka record and traced under its traceparent, the
// redelivered rejection is the same record, byte for byte, whenever it is made again.
TEST_F(SubmitterTest, TheSameInputRejectedAgainIsTheSameEvent) {
  v1::Referral bad = ValidReferral();
  bad.clear_needs();
  const absl::Time sent_at = now_ - absl::Seconds(3);
  const std::string trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  auto from_kafka = [&](const v1::Referral& referral) {
    Submission submission{referral, v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF, trace};
    submission.sent_at = sent_at;
    return submitter_.Submit(std::move(submission));
  };
  ASSERT_FALSE(from_kafka(bad).ok());
  now_ += absl::Minutes(1);
  ASSERT_FALSE(from_kafka(bad).ok());
  bad.set_notes("something else");
  ASSERT_FALSE(from_kafka(bad).ok());
  auto rejected = Published(kafka::Topic::kReferralRejected);
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[0].envelope().event_id(), rejected[1].envelope().event_id());
  EXPECT_NE(rejected[0].envelope().event_id(), rejected[2].envelope().event_id());
  EXPECT_EQ(rejected[0].envelope().occurred_at().seconds(), absl::ToUnixSeconds(sent_at));
  EXPECT_EQ(rejected[0].envelope().trace().traceparent().substr(0, 36), trace.substr(0, 36));
  auto sent = producer_.Sent("t.signpost.referral.rejected");
  ExpectSameRecord(sent[0], sent[1]);

  SenderIdentity sender = SenderFromKafkaKey("emis-leeds-north/BROKEN-1");
  absl::Status why = InvalidArgumentWithViolations({{"", "not a ReferralSubmission"}});
  for (int delivery = 0; delivery < 2; ++delivery) {
    ASSERT_TRUE(submitter_
                    .RejectUnreadable("emis-leeds-north/BROKEN-1", "garbage", sender, why,
                                      v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF, sent_at, trace)
                    .ok());
    now_ += absl::Minutes(1);
  }
  rejected = Published(kafka::Topic::kReferralRejected);
  ASSERT_EQ(rejected.size(), 5u);
  EXPECT_EQ(rejected[3].envelope().event_id(), rejected[4].envelope().event_id());
  EXPECT_NE(rejected[3].envelope().event_id(), rejected[0].envelope().event_id());
  sent = producer_.Sent("t.signpost.referral.rejected");
  ExpectSameRecord(sent[3], sent[4]);
}

TEST_F(SubmitterTest, ARejectionIsAddressedToWhoeverTheSubmissionNames) {
  Submission submission;
  submission.referral = ValidReferral();
  submission.referral.clear_source_system();
  submission.referral.clear_source_referral_id();
  submission.referral.mutable_referrer()->set_ods_code("not an ods code");
  submission.channel = v1::SUBMISSION_CHANNEL_KAFKA_FHIR;
  submission.sender = {"emis-leeds-north", "EMIS-9", "B86002"};
  EXPECT_EQ(submitter_.Submit(submission).status().code(), absl::StatusCode::kInvalidArgument);

  absl::Status why = InvalidArgumentWithViolations({{"", "not valid JSON"}});
  ASSERT_TRUE(submitter_
                  .RejectUnreadable("", "{", SenderIdentity(), why,
                                    v1::SUBMISSION_CHANNEL_KAFKA_FHIR, absl::InfinitePast(), "")
                  .ok());
  v1::Referral anonymous = ValidReferral();
  anonymous.clear_source_system();
  anonymous.mutable_referrer()->clear_ods_code();
  EXPECT_FALSE(submitter_.Submit(anonymous, v1::SUBMISSION_CHANNEL_GRPC).ok());

  auto rejected = Published(kafka::Topic::kReferralRejected);
  ASSERT_EQ(rejected.size(), 3u);
  const auto& named = rejected[0].referral_rejected();
  EXPECT_EQ(named.source_system(), "emis-leeds-north");
  EXPECT_EQ(named.source_referral_id(), "EMIS-9");
  EXPECT_EQ(named.referrer_ods_code(), "B86002");
  EXPECT_FALSE(named.referrer_unreachable());
  EXPECT_EQ(producer_.Sent("t.signpost.referral.rejected")[0].key, "emis-leeds-north/EMIS-9");
  EXPECT_TRUE(rejected[1].referral_rejected().referrer_unreachable());
  EXPECT_EQ(producer_.Sent("t.signpost.referral.rejected")[1].key, "unknown");
  // Over gRPC the reply told the caller.
  EXPECT_FALSE(rejected[2].referral_rejected().referrer_unreachable());
}

// Item 14: a submission another attempt holds waits off the caller's thread and is answered
// UNAVAILABLE, with when to retry, before the caller's deadline; once the holder publishes, a
// waiting duplicate is told so.
TEST_F(SubmitterTest, ASubmissionHeldByAnotherAttemptWaitsOffTheCallersThread) {
  producer_.Hold(true);  // the first attempt claims and sends; its send does not complete yet
  absl::Notification first_done;
  absl::StatusOr<SubmitResult> first;
  submitter_.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC},
                         [&](absl::StatusOr<SubmitResult> r) {
                           first = std::move(r);
                           first_done.Notify();
                         });
  ASSERT_TRUE(HeldSends(1));

  Submission impatient{ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC};
  impatient.deadline = absl::Now() + absl::Seconds(1);
  absl::Notification answered;
  absl::StatusOr<SubmitResult> answer;
  std::thread::id answered_on;
  submitter_.SubmitAsync(impatient, [&](absl::StatusOr<SubmitResult> r) {
    answer = std::move(r);
    answered_on = std::this_thread::get_id();
    answered.Notify();
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_NE(answered_on, std::this_thread::get_id());  // the caller's thread did not wait
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(answer.status().message()), HasSubstr("retry"));
  EXPECT_THAT(std::string(answer.status().message()), HasSubstr("hold runs out at"));

  Submission patient{ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC};
  patient.deadline = absl::Now() + absl::Seconds(60);
  absl::Notification told;
  absl::StatusOr<SubmitResult> duplicate;
  submitter_.SubmitAsync(patient, [&](absl::StatusOr<SubmitResult> r) {
    duplicate = std::move(r);
    told.Notify();
  });
  producer_.Hold(false);
  producer_.ReleaseHeld();
  ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(told.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(duplicate.ok()) << duplicate.status();
  EXPECT_TRUE(duplicate->duplicate);
  EXPECT_EQ(duplicate->referral_id, first->referral_id);
}

// Issue 26: a submission seen first is claimed with its event in one round trip; a look again
// (it was held by another attempt) offers no event, and should it find the submission gone (a
// record Redis lost) it records its event before it sends, as after a takeover.
TEST_F(SubmitterTest, ALookAgainOffersNoEventAndRecordsOneBeforeSendingWhenItClaims) {
  const SubmissionKey key{"emis-leeds-north", "EMIS-2026-000123"};
  v1::Referral sent = NormaliseReferral(ValidReferral(), now_);
  sent.mutable_profile()->clear_age_years();
  submissions_.Plant(key, FingerprintOf(sent), "ref-held", /*published=*/false,
                     now_ + absl::Seconds(30));

  Submission patient{ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC};
  patient.deadline = absl::Now() + absl::Seconds(60);
  absl::Notification told;
  absl::StatusOr<SubmitResult> result;
  submitter_.SubmitAsync(patient, [&](absl::StatusOr<SubmitResult> r) {
    result = std::move(r);
    told.Notify();
  });
  ASSERT_TRUE(Eventually([&] { return !submissions_.OfferedEvents().empty(); }));
  EXPECT_FALSE(told.HasBeenNotified()) << "held by another attempt: it waits";
  submissions_.Forget(key);
  ASSERT_TRUE(told.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->duplicate);

  auto offered = submissions_.OfferedEvents();
  ASSERT_GE(offered.size(), 2u);
  EXPECT_TRUE(offered.front()) << "the first look offers the event with the claim";
  for (size_t i = 1; i < offered.size(); ++i) EXPECT_FALSE(offered[i]) << "look " << i;
  auto received = Published(kafka::Topic::kReferralReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope().referral_id(), result->referral_id);
  EXPECT_EQ(received[0].envelope().event_id(), Submitter::ReceivedEventId(result->referral_id));
}

// At shutdown a submission waiting on another attempt is answered at once, to retry elsewhere.
TEST_F(SubmitterTest, AtShutdownAWaitingSubmissionIsAnsweredAtOnce) {
  SubmitterOptions options = Options();
  options.in_progress_wait = absl::Seconds(120);  // what it would wait but for the shutdown
  Submitter submitter(options, submissions_, statuses_, producer_, cipher_, metrics_,
                      [this] { return now_; });
  producer_.Hold(true);
  submitter.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC},
                        [](absl::StatusOr<SubmitResult>) {});
  ASSERT_TRUE(HeldSends(1));
  absl::Notification answered;
  absl::Status status;
  submitter.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_KAFKA_FHIR},
                        [&](absl::StatusOr<SubmitResult> r) {
                          status = r.status();
                          answered.Notify();
                        });
  ASSERT_TRUE(Eventually([&] { return submissions_.OfferedEvents().size() == 2; }));
  submitter.StopWaiting();
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("stopping"));
  auto late = submitter.Submit(ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  producer_.Hold(false);
  producer_.ReleaseHeld();
}

// Another submission store with something of its own in front: everything it does not change goes
// to the store behind.
class ForwardingSubmissionStore : public SubmissionStore {
 public:
  explicit ForwardingSubmissionStore(SubmissionStore& store) : store_(store) {}
  absl::StatusOr<Claim> TryClaim(const SubmissionKey& key, const Fingerprint& fingerprint,
                                 const Proposal& proposal, const std::string& owner, absl::Time now,
                                 absl::Duration lease) override {
    return store_.TryClaim(key, fingerprint, proposal, owner, now, lease);
  }
  absl::StatusOr<std::optional<std::string>> RecordEvent(const SubmissionKey& key,
                                                         const std::string& referral_id,
                                                         std::string event) override {
    return store_.RecordEvent(key, referral_id, std::move(event));
  }
  absl::Status MarkPublished(const SubmissionKey& key, const std::string& owner) override {
    return store_.MarkPublished(key, owner);
  }
  absl::Status Release(const SubmissionKey& key, const std::string& owner) override {
    return store_.Release(key, owner);
  }
  absl::StatusOr<std::optional<std::string>> FindReferralId(const SubmissionKey& key) override {
    return store_.FindReferralId(key);
  }

 protected:
  SubmissionStore& store_;
};

// A submission store whose claims, once it is slowed, take far longer than any caller waits
// (Redis stalled): what a waiting submission's looks are held up by.
class SlowSubmissionStore final : public ForwardingSubmissionStore {
 public:
  using ForwardingSubmissionStore::ForwardingSubmissionStore;
  using ForwardingSubmissionStore::Release;
  void SetSlow() { slow_.store(true); }
  // Every claim held up returns now, and later ones do not wait.
  void Release() { released_.Notify(); }

  absl::StatusOr<Claim> TryClaim(const SubmissionKey& key, const Fingerprint& fingerprint,
                                 const Proposal& proposal, const std::string& owner, absl::Time now,
                                 absl::Duration lease) override {
    if (slow_.load()) released_.WaitForNotificationWithTimeout(absl::Seconds(10));
    return store_.TryClaim(key, fingerprint, proposal, owner, now, lease);
  }

 private:
  std::atomic<bool> slow_{false};
  absl::Notification released_;
};

// A submission store whose first claim waits until released (Redis busy with a round trip), and
// which records how many claims each round trip carried.
class GatedSubmissionStore final : public ForwardingSubmissionStore {
 public:
  using ForwardingSubmissionStore::ForwardingSubmissionStore;
  using ForwardingSubmissionStore::Release;
  void Release() { released_.Notify(); }
  std::vector<size_t> RoundTrips() {
    absl::MutexLock lock(&mu_);
    return round_trips_;
  }

  std::vector<absl::StatusOr<Claim>> TryClaimMany(const std::vector<ClaimRequest>& requests,
                                                  absl::Time now, absl::Duration lease) override {
    {
      absl::MutexLock lock(&mu_);
      round_trips_.push_back(requests.size());
    }
    released_.WaitForNotificationWithTimeout(absl::Seconds(30));
    return store_.TryClaimMany(requests, now, lease);
  }

 private:
  absl::Notification released_;
  absl::Mutex mu_;
  std::vector<size_t> round_trips_ ABSL_GUARDED_BY(mu_);
};

// Issue 26: the submissions that arrive while a claim's round trip is under way are claimed
// together in the next one, each answered as alone; beyond `max_queued_claims` waiting, a
// submission is refused RESOURCE_EXHAUSTED at once, and nothing of it is published.
TEST_F(SubmitterTest, SubmissionsArrivingDuringARoundTripAreClaimedTogetherAndBounded) {
  GatedSubmissionStore gated(submissions_);
  SubmitterOptions options = Options();
  options.max_queued_claims = 4;
  Submitter submitter(options, gated, statuses_, producer_, cipher_, metrics_,
                      [this] { return now_; });
  struct Answer {
    absl::Notification given;
    absl::StatusOr<SubmitResult> result;
  };
  std::vector<std::unique_ptr<Answer>> answers;
  auto submit = [&](int i) {
    v1::Referral referral = ValidReferral();
    referral.set_source_referral_id(absl::StrCat("EMIS-BATCH-", i));
    answers.push_back(std::make_unique<Answer>());
    submitter.SubmitAsync({referral, v1::SUBMISSION_CHANNEL_GRPC},
                          [answer = answers.back().get()](absl::StatusOr<SubmitResult> r) {
                            answer->result = std::move(r);
                            answer->given.Notify();
                          });
  };
  submit(0);  // its round trip is held up in the store
  ASSERT_TRUE(Eventually([&] { return gated.RoundTrips().size() == 1; }));
  for (int i = 1; i <= 5; ++i) submit(i);  // queued by the time SubmitAsync returns
  ASSERT_TRUE(answers[5]->given.HasBeenNotified()) << "the fifth beyond the bound waited";
  EXPECT_EQ(answers[5]->result.status().code(), absl::StatusCode::kResourceExhausted)
      << answers[5]->result.status();
  EXPECT_THAT(std::string(answers[5]->result.status().message()), HasSubstr("retry"));

  gated.Release();
  std::set<std::string> referral_ids;
  for (int i = 0; i <= 4; ++i) {
    ASSERT_TRUE(answers[i]->given.WaitForNotificationWithTimeout(absl::Seconds(30))) << i;
    ASSERT_TRUE(answers[i]->result.ok()) << i << ": " << answers[i]->result.status();
    EXPECT_FALSE(answers[i]->result->duplicate) << i;
    referral_ids.insert(answers[i]->result->referral_id);
  }
  EXPECT_EQ(referral_ids.size(), 5u);
  EXPECT_EQ(gated.RoundTrips(), (std::vector<size_t>{1, 4})) << "the four waiting went together";
  EXPECT_EQ(Published(kafka::Topic::kReferralReceived).size(), 5u);
}

// Waiting submissions are bounded (those beyond the bound are refused RESOURCE_EXHAUSTED at
// once), and a stalled store does not hold any waiter's answer past its caller's deadline.
TEST_F(SubmitterTest, WaitersBeyondTheBoundAreRefusedAndNoneIsAnsweredAfterItsDeadline) {
  SlowSubmissionStore slow(submissions_);
  SubmitterOptions options = Options();
  options.in_progress_wait = absl::Seconds(60);
  options.max_waiting = 3;
  Submitter submitter(options, slow, statuses_, producer_, cipher_, metrics_,
                      [this] { return now_; });
  producer_.Hold(true);  // the first attempt claims and sends; its send does not complete
  submitter.SubmitAsync({ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC},
                        [](absl::StatusOr<SubmitResult>) {});
  ASSERT_TRUE(HeldSends(1));

  struct Answer {
    absl::Notification given;
    absl::Status status;
    absl::Time at;
  };
  constexpr int kCalls = 8;
  std::vector<std::unique_ptr<Answer>> answers;
  const absl::Time deadline = absl::Now() + absl::Seconds(8);
  for (int i = 0; i < kCalls; ++i) {
    answers.push_back(std::make_unique<Answer>());
    Submission waiting{ValidReferral(), v1::SUBMISSION_CHANNEL_GRPC};
    waiting.deadline = deadline;
    submitter.SubmitAsync(waiting, [answer = answers.back().get()](absl::StatusOr<SubmitResult> r) {
      answer->status = r.status();
      answer->at = absl::Now();
      answer->given.Notify();
    });
  }
  auto given = [&] {
    return std::count_if(answers.begin(), answers.end(),
                         [](const auto& a) { return a->given.HasBeenNotified(); });
  };
  ASSERT_TRUE(Eventually([&] { return given() >= kCalls - 3; }));
  int refused = 0;
  for (const auto& answer : answers) {
    if (!answer->given.HasBeenNotified()) continue;  // waits
    ++refused;
    EXPECT_EQ(answer->status.code(), absl::StatusCode::kResourceExhausted) << answer->status;
    EXPECT_THAT(std::string(answer->status.message()), HasSubstr("retry"));
  }
  EXPECT_EQ(refused, kCalls - 3);

  slow.SetSlow();  // every look from now on takes longer than the callers wait
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer->given.WaitForNotificationWithTimeout(absl::Seconds(60)));
    EXPECT_LT(answer->at, deadline) << answer->status;
    if (answer->status.code() != absl::StatusCode::kResourceExhausted) {
      EXPECT_EQ(answer->status.code(), absl::StatusCode::kUnavailable) << answer->status;
    }
  }
  slow.Release();
  producer_.Hold(false);
  producer_.ReleaseHeld();
}

// Item 13: label values come from bounded sets, whatever the submissions say.
TEST_F(SubmitterTest, MetricsLabelsStayBoundedWhateverIsSubmitted) {
  for (int i = 0; i < 200; ++i) {
    v1::Referral bad = ValidReferral();
    bad.set_source_system(absl::StrCat("gp-", i, std::string(i, 'x')));
    for (int g = 0; g < 40; ++g) {
      bad.mutable_profile()->add_inclusion_groups(static_cast<v1::InclusionGroup>(99));
    }
    ASSERT_FALSE(submitter_.Submit(bad, v1::SUBMISSION_CHANNEL_GRPC).ok());
  }
  std::string text = metrics_.RenderPrometheus();
  EXPECT_EQ(text.find("gp-1"), std::string::npos);
  EXPECT_EQ(text.find("inclusion_groups[1"), std::string::npos);
  EXPECT_NE(text.find("field=\"profile.inclusion_groups[]\""), std::string::npos) << text;
  EXPECT_NE(text.find("source_system=\"other\""), std::string::npos) << text;
}

}  // namespace
}  // namespace signpost::intake
