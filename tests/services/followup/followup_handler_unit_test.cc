// Follow-up's handler, commands and timers over the in-memory case store (no Redis): what a link
// worker and a referrer see when matches, withdrawals and rejections arrive, when the store is
// unreachable and when a first contact falls due.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/kafka/topics.h"
#include "services/followup/followup_handler.h"
#include "services/followup/timer_scheduler.h"
#include "tests/services/followup/batch_events.h"
#include "tests/services/followup/fakes/in_memory_case_store.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"

namespace signpost::followup {
namespace {

using batch_events::kMonday;
using batch_events::Matched;
using batch_events::Withdrawn;
using Kind = kafka::Outcome::Kind;

kafka::ConsumedMessage On(kafka::Topic topic, int32_t partition, const v1::Event& event) {
  kafka::ConsumedMessage m;
  m.topic = kafka::TopicName(topic, "");
  m.partition = partition;
  m.key = event.envelope().referral_id();
  m.value = event.SerializeAsString();
  return m;
}

v1::Event Rejected(const std::string& rid, const std::string& ods) {
  v1::Event e;
  auto* r = e.mutable_referral_rejected();
  r->set_source_system("emis-test");
  r->set_source_referral_id("src-" + rid);
  r->set_referrer_ods_code(ods);
  r->set_reason("1 problem");
  auto* v = r->add_violations();
  v->set_field("referral.person.nhs_number");
  v->set_description("fails the check digit");
  events::Seal(e, rid, "signpost-intake", kMonday);
  return e;
}

class FollowUpHandlerUnitTest : public ::testing::Test {
 protected:
  FollowUpHandlerUnitTest()
      : keys_(signpost::testing::TestDataKeys()),
        cipher_(keys_),
        commands_(
            store_, workflow_, nullptr, [this] { return now_; }, nullptr),
        handler_(commands_, producer_, cipher_, "", "signpost-followup", metrics_) {}

  std::vector<kafka::Outcome> Handle(const std::vector<kafka::ConsumedMessage>& batch) {
    return handler_.Handle(batch);
  }

  std::optional<v1::Case> CaseOf(const std::string& rid) {
    auto loaded = store_.Load(rid);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok() || !loaded->has_value()) return std::nullopt;
    return (*loaded)->kase;
  }

  std::vector<v1::Task> QueueOf(const std::string& queue) {
    auto snapshot = store_.Snapshot(queue);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? snapshot->tasks : std::vector<v1::Task>();
  }

  absl::Time now_ = kMonday;
  crypto::DataKeyring keys_;
  crypto::PersonalDetailsCipher cipher_;
  testing::InMemoryCaseStore store_;
  CaseWorkflow workflow_{WorkflowOptions{}};
  CaseCommands commands_;
  signpost::testing::FakeProducer producer_;
  metrics::Registry metrics_;
  FollowUpHandler handler_;
};

TEST_F(FollowUpHandlerUnitTest, AMatchGivesItsLinkWorkerAFirstContactTaskAndTellsTheWorld) {
  auto outcomes = Handle({On(kafka::Topic::kReferralMatched, 0, Matched("r-1"))});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;

  auto kase = CaseOf("r-1");
  ASSERT_TRUE(kase);
  EXPECT_EQ(kase->state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(kase->link_worker_id(), "lw-1");
  auto tasks = QueueOf("lw-1");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind(), v1::TASK_KIND_FIRST_CONTACT);
  EXPECT_EQ(tasks[0].referral_id(), "r-1");
  EXPECT_THAT(tasks[0].summary(), ::testing::HasSubstr("First contact"));
  // The first-contact deadline is watched.
  EXPECT_THAT(store_.TimerIds(),
              ::testing::IsSupersetOf({"r-1/first-contact-at-risk", "r-1/first-contact-breached"}));
  // The case event (assigned) goes out through the outbox, with the case's key.
  bool assigned = false;
  for (const auto& out : store_.Outbox()) {
    if (out.topic == kafka::Topic::kFollowupEvents && out.event.has_case_event() &&
        out.event.case_event().to_state() == v1::CASE_STATE_ASSIGNED) {
      assigned = true;
      EXPECT_EQ(out.key, "r-1");
    }
  }
  EXPECT_TRUE(assigned);
}

TEST_F(FollowUpHandlerUnitTest, ARedeliveredMatchChangesNothing) {
  std::vector<kafka::ConsumedMessage> batch = {
      On(kafka::Topic::kReferralMatched, 0, Matched("r-1"))};
  ASSERT_EQ(handler_.Handle(batch)[0].kind, Kind::kDone);
  const size_t events = store_.Outbox().size();
  auto again = handler_.Handle(batch);
  EXPECT_EQ(again[0].kind, Kind::kDone) << again[0].reason;
  EXPECT_EQ(store_.VersionOf("r-1"), 1);
  EXPECT_EQ(store_.Outbox().size(), events);
  EXPECT_EQ(QueueOf("lw-1").size(), 1u);
}

TEST_F(FollowUpHandlerUnitTest, AWithdrawalEndsTheCaseAndTakesItsTaskOffTheQueue) {
  ASSERT_EQ(Handle({On(kafka::Topic::kReferralMatched, 0, Matched("r-1"))})[0].kind, Kind::kDone);
  auto outcomes = Handle({On(kafka::Topic::kReferralReceived, 0, Withdrawn("r-1"))});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  EXPECT_EQ(CaseOf("r-1")->state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_TRUE(QueueOf("lw-1").empty());
  // The link worker's open stream hears that the task ended.
  auto feed = store_.Feed("lw-1");
  ASSERT_FALSE(feed.empty());
  EXPECT_NE(feed.back().status(), v1::TASK_STATUS_OPEN);
  // A redelivered withdrawal finds it withdrawn.
  EXPECT_EQ(Handle({On(kafka::Topic::kReferralReceived, 0, Withdrawn("r-1"))})[0].kind,
            Kind::kDone);
  EXPECT_EQ(store_.VersionOf("r-1"), 2);
}

TEST_F(FollowUpHandlerUnitTest, WhileTheStoreIsUnreachableEveryMessageIsRetriedNeverSetAside) {
  std::vector<kafka::ConsumedMessage> batch = {
      On(kafka::Topic::kReferralMatched, 0, Matched("r-1")),
      On(kafka::Topic::kReferralMatched, 0, Matched("r-2")),
      On(kafka::Topic::kReferralReceived, 1, Withdrawn("r-3")),
  };
  store_.SetReachable(false);
  for (const auto& o : handler_.Handle(batch)) EXPECT_EQ(o.kind, Kind::kRetry) << o.reason;
  store_.SetReachable(true);
  // Redelivered once the store is back: nothing was lost.
  for (const auto& o : handler_.Handle(batch)) EXPECT_EQ(o.kind, Kind::kDone) << o.reason;
  EXPECT_EQ(CaseOf("r-1")->state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(CaseOf("r-2")->state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(CaseOf("r-3")->state(), v1::CASE_STATE_WITHDRAWN);
}

TEST_F(FollowUpHandlerUnitTest, AMatchWaitingForItsKeyHoldsTheRestOfItsPartitionOnly) {
  v1::Event unknown_key = Matched("r-waits");
  unknown_key.mutable_referral_matched()->mutable_referral()->mutable_sealed()->set_key_id(
      "a-key-from-a-later-rotation");
  auto outcomes = Handle({
      On(kafka::Topic::kReferralMatched, 0, Matched("r-before")),
      On(kafka::Topic::kReferralMatched, 0, unknown_key),
      On(kafka::Topic::kReferralMatched, 0, Matched("r-after")),
      On(kafka::Topic::kReferralReceived, 0, Withdrawn("r-before")),
      On(kafka::Topic::kReferralMatched, 1, Matched("r-elsewhere")),
  });
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(outcomes[0].kind, Kind::kDone);
  EXPECT_EQ(outcomes[1].kind, Kind::kRetry);
  EXPECT_THAT(outcomes[1].reason, ::testing::HasSubstr("a-key-from-a-later-rotation"));
  EXPECT_EQ(outcomes[2].kind, Kind::kRetry);
  // Another topic's partition (withdrawals come on referral.received) goes on.
  EXPECT_EQ(outcomes[3].kind, Kind::kDone) << outcomes[3].reason;
  EXPECT_EQ(outcomes[4].kind, Kind::kDone);
  EXPECT_FALSE(CaseOf("r-waits"));
  // Not handled now: they come again, in order, after the one they wait behind.
  EXPECT_FALSE(CaseOf("r-after"));
  EXPECT_EQ(CaseOf("r-before")->state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_TRUE(CaseOf("r-elsewhere"));
}

TEST_F(FollowUpHandlerUnitTest, AnUnreadableMessageIsDeadLetteredAndItsPartitionGoesOn) {
  kafka::ConsumedMessage garbage;
  garbage.topic = kafka::TopicName(kafka::Topic::kReferralMatched, "");
  garbage.partition = 0;
  garbage.value = "not an event";
  auto outcomes = Handle({garbage, On(kafka::Topic::kReferralMatched, 0, Matched("r-1"))});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].kind, Kind::kDeadLetter);
  EXPECT_FALSE(outcomes[0].reason.empty());
  EXPECT_EQ(outcomes[1].kind, Kind::kDone) << outcomes[1].reason;
  EXPECT_TRUE(CaseOf("r-1"));
}

TEST_F(FollowUpHandlerUnitTest, ARejectionIsToldToThePracticeAndRetriedWhileTheBrokerIsDown) {
  const std::string feedback = kafka::TopicName(kafka::Topic::kReferrerFeedback, "");
  auto message = On(kafka::Topic::kReferralRejected, 0, Rejected("r-9", "B82002"));
  producer_.FailNext(1);
  EXPECT_EQ(Handle({message})[0].kind, Kind::kRetry);
  EXPECT_TRUE(producer_.Sent(feedback).empty());
  EXPECT_EQ(Handle({message})[0].kind, Kind::kDone);
  auto sent = producer_.Sent(feedback);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].key, "B82002");
  v1::Event told;
  ASSERT_TRUE(told.ParseFromString(sent[0].value.value_or("")));
  EXPECT_EQ(told.referrer_feedback().kind(), v1::FEEDBACK_KIND_REJECTED);
  EXPECT_THAT(told.referrer_feedback().summary(),
              ::testing::HasSubstr("referral.person.nhs_number: fails the check digit"));
  // A redelivery tells it again under the same event id, so the practice files it once.
  ASSERT_EQ(Handle({message})[0].kind, Kind::kDone);
  sent = producer_.Sent(feedback);
  ASSERT_EQ(sent.size(), 2u);
  v1::Event again;
  ASSERT_TRUE(again.ParseFromString(sent[1].value.value_or("")));
  EXPECT_EQ(again.envelope().event_id(), told.envelope().event_id());
}

// The message back names one content by its event id: a rejection redelivered later is told
// again in the same bytes, its FHIR message (whose timestamp is the event's) included.
TEST_F(FollowUpHandlerUnitTest, ARedeliveredRejectionIsToldAgainInTheSameBytes) {
  const std::string feedback = kafka::TopicName(kafka::Topic::kReferrerFeedback, "");
  auto message = On(kafka::Topic::kReferralRejected, 0, Rejected("r-9", "B82002"));
  ASSERT_EQ(Handle({message})[0].kind, Kind::kDone);
  now_ += absl::Hours(3);
  ASSERT_EQ(Handle({message})[0].kind, Kind::kDone);
  auto sent = producer_.Sent(feedback);
  ASSERT_EQ(sent.size(), 2u);
  v1::Event told;
  ASSERT_TRUE(told.ParseFromString(sent[0].value.value_or("")));
  EXPECT_EQ(told.referrer_feedback().message_back().step(), "rejected");
  EXPECT_NE(told.referrer_feedback().fhir_message().find("\"status\":\"rejected\""),
            std::string::npos);
  EXPECT_EQ(sent[0].value, sent[1].value);
}

TEST_F(FollowUpHandlerUnitTest, AFirstContactNotMadeInTimePutsAnSlaTaskOnTheQueueOnce) {
  ASSERT_EQ(Handle({On(kafka::Topic::kReferralMatched, 0, Matched("r-1"))})[0].kind, Kind::kDone);
  TimerScheduler timers(
      store_, workflow_, [this] { return now_; }, nullptr, metrics_);
  auto fired = timers.RunOnce();
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(*fired, 0);  // nothing is due on the day of the match

  now_ = kMonday + absl::Hours(24 * 60);  // long past any first-contact deadline
  fired = timers.RunOnce();
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_GE(*fired, 1);
  bool sla = false;
  for (const auto& task : QueueOf("lw-1")) {
    sla |= task.kind() == v1::TASK_KIND_SLA_AT_RISK || task.kind() == v1::TASK_KIND_SLA_BREACHED;
  }
  EXPECT_TRUE(sla);
  const int64_t version = store_.VersionOf("r-1");
  fired = timers.RunOnce();
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(*fired, 0);  // each timer fires once
  EXPECT_EQ(store_.VersionOf("r-1"), version);
}

}  // namespace
}  // namespace signpost::followup
