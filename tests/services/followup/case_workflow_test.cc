#include "services/followup/case_workflow.h"
#include "tests/support/test_tokens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "common/events/timestamp.h"
#include "services/followup/case_access.h"
#include "tests/services/followup/batch_events.h"

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using batch_events::kMonday;

// The batch tests' match, with the person's details, consent and an option.
v1::Event Matched(const std::string& rid, const std::string& worker, v1::Urgency priority,
                  bool sharing_consent = true) {
  v1::Event e = batch_events::Matched(rid);
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  r->mutable_identity()->set_given_name("Amira");
  r->mutable_identity()->set_nhs_number("9434765919");
  r->mutable_identity()->set_phone("07700900123");
  r->set_notes("Amira prefers mornings.");
  r->mutable_profile()->set_age_years(71);
  r->mutable_consent()->set_sharing_consent(sharing_consent);
  auto* option = m->mutable_needs(0)->add_options();
  option->set_resource_id("walk-1");
  option->set_resource_name("Headingley Walking Group");
  m->set_link_worker_id(worker);
  m->set_priority(priority);
  return e;
}

class CaseWorkflowTest : public ::testing::Test {
 protected:
  CaseWorkflowTest() : workflow_(Options()) {}
  static WorkflowOptions Options() {
    WorkflowOptions o;
    o.deadlines.first_contact_working_days = 3;
    o.deadlines.priority_first_contact_working_days = 1;
    return o;
  }

  // Applies a change the way the store does, for the next step.
  static LoadedCase Apply(const CaseChange& change) {
    LoadedCase next;
    next.kase = change.after;
    std::map<std::string, v1::Task> tasks;
    for (const auto& w : change.tasks) tasks[w.task.id()] = w.task;
    for (const auto& id : change.after.open_task_ids()) {
      if (tasks.count(id)) next.open_tasks.push_back(tasks[id]);
    }
    return next;
  }
  LoadedCase Carry(const LoadedCase& before, const CaseChange& change) {
    LoadedCase next = Apply(change);
    for (const auto& id : change.after.open_task_ids()) {
      bool have = false;
      for (const auto& t : next.open_tasks) have |= t.id() == id;
      for (const auto& t : before.open_tasks) {
        if (!have && t.id() == id) next.open_tasks.push_back(t);
      }
    }
    return next;
  }

  static std::vector<v1::FeedbackKind> Feedback(const CaseChange& change) {
    std::vector<v1::FeedbackKind> kinds;
    for (const auto& e : change.events) {
      if (e.event.has_referrer_feedback()) kinds.push_back(e.event.referrer_feedback().kind());
    }
    return kinds;
  }

  LoadedCase Opened(v1::Urgency priority = v1::URGENCY_ROUTINE, bool consent = true) {
    auto change = workflow_.Open(Matched("r1", "lw-1", priority, consent), kMonday);
    EXPECT_TRUE(change.ok()) << change.status();
    return Apply(*change);
  }

  CaseWorkflow workflow_;
};

TEST_F(CaseWorkflowTest, AMatchOpensACaseWithAFirstContactTaskTimersAndTwoMessagesBack) {
  auto change = workflow_.Open(Matched("r1", "lw-1", v1::URGENCY_ROUTINE), kMonday);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->expected_version, 0);
  EXPECT_EQ(change->after.state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(change->after.version(), 1);
  ASSERT_EQ(change->tasks.size(), 1u);
  const v1::Task& task = change->tasks[0].task;
  EXPECT_EQ(task.kind(), v1::TASK_KIND_FIRST_CONTACT);
  EXPECT_EQ(QueueOf(task), "lw-1");
  // Monday 10:00 + 3 working days.
  EXPECT_EQ(events::FromTimestamp(task.due_at()), kMonday + absl::Hours(72));
  EXPECT_EQ(task.summary().find("Amira"), std::string::npos) << "no names on the topics";
  ASSERT_EQ(change->timers_to_add.size(), 2u);
  EXPECT_EQ(change->timers_to_add[1].kind(), v1::FollowUpTimer::KIND_FIRST_CONTACT_BREACHED);
  EXPECT_THAT(Feedback(*change),
              ElementsAre(v1::FEEDBACK_KIND_ACCEPTED, v1::FEEDBACK_KIND_ASSIGNED));
  for (const auto& e : change->events) {
    if (e.event.has_referrer_feedback()) {
      EXPECT_EQ(e.key, "A81001");
    }
    if (e.event.has_case_event()) {
      EXPECT_EQ(e.key, "r1");
    }
  }
  // The same event gives the same ids and deadlines, processed whenever; its events carry the
  // time they were made.
  auto again =
      workflow_.Open(Matched("r1", "lw-1", v1::URGENCY_ROUTINE), kMonday + absl::Minutes(5));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(events::FromTimestamp(again->tasks[0].task.due_at()), kMonday + absl::Hours(72));
  EXPECT_EQ(events::FromTimestamp(again->events[0].event.envelope().occurred_at()),
            kMonday + absl::Minutes(5));
  for (size_t i = 0; i < change->events.size(); ++i) {
    EXPECT_EQ(change->events[i].event.envelope().event_id(),
              again->events[i].event.envelope().event_id());
  }
}

TEST_F(CaseWorkflowTest, PriorityReferralsAreDueNextWorkingDayAndTeamQueueWhenNobodyHasRoom) {
  auto change = workflow_.Open(Matched("r2", "", v1::URGENCY_PRIORITY), kMonday);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(events::FromTimestamp(change->tasks[0].task.due_at()), kMonday + absl::Hours(24));
  EXPECT_EQ(QueueOf(change->tasks[0].task), "team:pcn-north");
  EXPECT_NE(change->events.back().event.referrer_feedback().summary().find("team queue"),
            std::string::npos);
}

// A practice no network lists: the task is on the regional unrouted queue (also for a match made
// before matching named it), and the GP is told that a coordinator will route it.
TEST_F(CaseWorkflowTest, APracticeNoNetworkListsGoesToTheUnroutedQueueAndTheGpIsToldSo) {
  for (const std::string network : {"unrouted", ""}) {
    v1::Event matched = Matched("r3", "", v1::URGENCY_ROUTINE);
    matched.mutable_referral_matched()->set_network_id(network);
    matched.mutable_referral_matched()->mutable_referral()->mutable_referrer()->set_ods_code(
        "A81099");
    auto change = workflow_.Open(matched, kMonday);
    ASSERT_TRUE(change.ok()) << change.status();
    EXPECT_EQ(QueueOf(change->tasks[0].task), "team:unrouted") << "network '" << network << "'";
    EXPECT_THAT(change->tasks[0].task.summary(),
                ::testing::HasSubstr("no primary care network in Signpost lists practice A81099"));
    std::map<v1::FeedbackKind, std::string> told;
    for (const auto& e : change->events) {
      if (e.event.has_referrer_feedback()) {
        told[e.event.referrer_feedback().kind()] = e.event.referrer_feedback().summary();
      }
    }
    EXPECT_THAT(told[v1::FEEDBACK_KIND_ACCEPTED],
                ::testing::HasSubstr("; no primary care network in Signpost lists practice A81099: "
                                     "the referral is held on the regional unrouted queue and a "
                                     "coordinator will route it to a link worker"));
    EXPECT_THAT(told[v1::FEEDBACK_KIND_ASSIGNED],
                ::testing::StartsWith("Held on the regional unrouted queue: no primary care "
                                      "network in Signpost lists practice A81099; a coordinator "
                                      "will route it to a link worker; first contact due by "));
    EXPECT_TRUE(CheckCaseAccess("team:unrouted", change->after).ok());
    EXPECT_EQ(*ActingQueue(signpost::testing::Coordinator("unrouted"), "", "ListTasks"),
              "team:unrouted");
  }
}

TEST_F(CaseWorkflowTest, ReachingThePersonCompletesFirstContactAndStopsTheSlaTimers) {
  LoadedCase c = Opened();
  v1::RecordContactRequest no_answer;
  no_answer.set_link_worker_id("lw-1");
  no_answer.set_result(v1::CONTACT_RESULT_NO_ANSWER);
  auto first = workflow_.RecordContact(c, no_answer, kMonday + absl::Hours(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->after.state(), v1::CASE_STATE_CONTACTING);
  EXPECT_THAT(Feedback(*first), IsEmpty());
  EXPECT_THAT(first->timers_to_cancel, IsEmpty());
  c = Carry(c, *first);

  v1::RecordContactRequest reached = no_answer;
  reached.set_result(v1::CONTACT_RESULT_REACHED);
  auto second = workflow_.RecordContact(c, reached, kMonday + absl::Hours(2));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->expected_version, 2);
  EXPECT_TRUE(second->after.reached());
  EXPECT_THAT(second->after.open_task_ids(), IsEmpty());
  ASSERT_EQ(second->tasks.size(), 1u);
  EXPECT_EQ(second->tasks[0].task.status(), v1::TASK_STATUS_DONE);
  EXPECT_THAT(second->timers_to_cancel,
              UnorderedElementsAre("r1/first-contact-at-risk", "r1/first-contact-breached"));
  EXPECT_THAT(Feedback(*second), ElementsAre(v1::FEEDBACK_KIND_FIRST_CONTACT));

  v1::RecordContactRequest missing = no_answer;
  missing.set_result(v1::CONTACT_RESULT_UNSPECIFIED);
  EXPECT_EQ(workflow_.RecordContact(c, missing, kMonday).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CaseWorkflowTest, ABreachedDeadlineMakesAnSlaTaskOnlyWhileNobodyWasReached) {
  LoadedCase c = Opened();
  v1::FollowUpTimer breach;
  breach.set_id("r1/first-contact-breached");
  breach.set_referral_id("r1");
  breach.set_kind(v1::FollowUpTimer::KIND_FIRST_CONTACT_BREACHED);
  auto fired = workflow_.Fire(c, breach, kMonday + absl::Hours(73));
  ASSERT_TRUE(fired.has_value());
  EXPECT_EQ(fired->fired_timer, "r1/first-contact-breached");
  ASSERT_EQ(fired->tasks.size(), 1u);
  EXPECT_EQ(fired->tasks[0].task.kind(), v1::TASK_KIND_SLA_BREACHED);
  EXPECT_EQ(QueueOf(fired->tasks[0].task), "lw-1");
  bool alert = false;
  for (const auto& e : fired->events) {
    alert |= e.event.case_event().alert() == v1::CASE_ALERT_SLA_BREACHED;
  }
  EXPECT_TRUE(alert);

  c.kase.set_reached(true);
  EXPECT_FALSE(workflow_.Fire(c, breach, kMonday + absl::Hours(73)).has_value());
}

TEST_F(CaseWorkflowTest, PlanNeedsAReachedContactAndConnectionNeedsAMatchedOption) {
  LoadedCase c = Opened();
  v1::AgreePlanRequest plan;
  plan.set_link_worker_id("lw-1");
  plan.set_plan("Walk twice a week");
  auto early = workflow_.AgreePlan(c, plan, kMonday);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("ASSIGNED"), absl::string_view::npos);

  c.kase.set_state(v1::CASE_STATE_CONTACTING);
  c.kase.set_reached(true);
  auto agreed = workflow_.AgreePlan(c, plan, kMonday);
  ASSERT_TRUE(agreed.ok());
  c = Carry(c, *agreed);
  v1::RecordConnectionRequest connect;
  connect.set_link_worker_id("lw-1");
  connect.set_resource_id("somewhere-else");
  EXPECT_EQ(workflow_.RecordConnection(c, connect, kMonday).status().code(),
            absl::StatusCode::kInvalidArgument);
  connect.set_resource_id("walk-1");
  auto connected = workflow_.RecordConnection(c, connect, kMonday);
  ASSERT_TRUE(connected.ok());
  EXPECT_EQ(connected->after.state(), v1::CASE_STATE_CONNECTED);
  ASSERT_EQ(connected->timers_to_add.size(), 2u);  // check-ins at 2 and 6 weeks
  EXPECT_EQ(events::FromTimestamp(connected->timers_to_add[0].due_at()),
            kMonday + absl::Hours(24 * 14));
  EXPECT_THAT(Feedback(*connected), ElementsAre(v1::FEEDBACK_KIND_CONNECTED));
}

// Two needs, two connections: each its own message back (key and event id), the check-ins set
// once, by the first; the same resource again is ALREADY_EXISTS, not a second message.
TEST_F(CaseWorkflowTest, EachConnectionIsItsOwnMessageAndOnlyTheFirstSetsTheCheckIns) {
  LoadedCase c = Opened();
  auto* garden = c.kase.add_needs();
  garden->mutable_need()->set_category(v1::NEED_CATEGORY_GARDENING_AND_NATURE);
  garden->add_options()->set_resource_id("garden-1");
  garden->mutable_options(0)->set_resource_name("Kirkstall Community Garden");
  c.kase.set_state(v1::CASE_STATE_ENGAGED);
  c.kase.set_reached(true);
  v1::RecordConnectionRequest connect;
  connect.set_link_worker_id("lw-1");
  connect.set_resource_id("walk-1");
  auto first = workflow_.RecordConnection(c, connect, kMonday);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->timers_to_add.size(), 2u);
  c = Carry(c, *first);
  connect.set_resource_id("garden-1");
  auto second = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(24));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->after.state(), v1::CASE_STATE_CONNECTED);
  EXPECT_THAT(second->timers_to_add, IsEmpty());
  EXPECT_THAT(second->timers_to_cancel, IsEmpty());
  EXPECT_THAT(second->after.connected_resource_ids(), ElementsAre("walk-1", "garden-1"));
  auto feedback_of = [](const CaseChange& change) {
    for (const auto& e : change.events) {
      if (e.event.has_referrer_feedback()) return e.event;
    }
    return v1::Event();
  };
  v1::Event one = feedback_of(*first), two = feedback_of(*second);
  EXPECT_EQ(two.referrer_feedback().kind(), v1::FEEDBACK_KIND_CONNECTED);
  EXPECT_NE(one.referrer_feedback().idempotency_key(), two.referrer_feedback().idempotency_key());
  EXPECT_NE(one.envelope().event_id(), two.envelope().event_id());
  // Derived, not random: decided again from the same case (a commit that lost a race is
  // redone), the message has the same key and event id.
  auto redone = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(25));
  ASSERT_TRUE(redone.ok());
  EXPECT_EQ(feedback_of(*redone).referrer_feedback().idempotency_key(),
            two.referrer_feedback().idempotency_key());
  EXPECT_EQ(feedback_of(*redone).envelope().event_id(), two.envelope().event_id());
  c = Carry(c, *second);
  auto again = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(26));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(CaseWorkflowTest, OutcomesAreValidatedAndTheFirstIsTheBaseline) {
  LoadedCase c = Opened();
  v1::RecordOutcomeRequest outcome;
  outcome.set_link_worker_id("lw-1");
  outcome.mutable_measure()->mutable_ons4()->set_life_satisfaction(11);
  auto bad = workflow_.RecordOutcome(c, outcome, kMonday);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  outcome.mutable_measure()->mutable_ons4()->set_life_satisfaction(4);
  auto first = workflow_.RecordOutcome(c, outcome, kMonday);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->after.baseline().baseline());
  c = Carry(c, *first);
  outcome.mutable_measure()->mutable_ons4()->set_life_satisfaction(7);
  auto second = workflow_.RecordOutcome(c, outcome, kMonday);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->after.latest().ons4().life_satisfaction(), 7);
  EXPECT_EQ(second->after.baseline().ons4().life_satisfaction(), 4);
}

TEST_F(CaseWorkflowTest, ClosingSendsOutcomesBackOnlyWithConsentToShare) {
  for (bool consent : {true, false}) {
    LoadedCase c = Opened(v1::URGENCY_ROUTINE, consent);
    c.kase.set_state(v1::CASE_STATE_FOLLOW_UP);
    c.kase.mutable_baseline()->mutable_ons4()->set_happiness(3);
    c.kase.mutable_latest()->mutable_ons4()->set_happiness(7);
    v1::CloseCaseRequest close;
    close.set_link_worker_id("lw-1");
    close.set_reason(v1::CLOSURE_REASON_COMPLETED);
    auto closed = workflow_.Close(c, close, kMonday);
    ASSERT_TRUE(closed.ok());
    EXPECT_EQ(closed->after.state(), v1::CASE_STATE_CLOSED);
    EXPECT_THAT(closed->after.open_task_ids(), IsEmpty());
    const auto& feedback = closed->events.back().event.referrer_feedback();
    EXPECT_EQ(feedback.kind(), v1::FEEDBACK_KIND_CLOSED);
    EXPECT_EQ(feedback.has_latest(), consent);
    EXPECT_EQ(feedback.idempotency_key(), "r1:closed");
  }
  LoadedCase c = Opened();
  v1::CloseCaseRequest withdraw;
  withdraw.set_reason(v1::CLOSURE_REASON_WITHDRAWN);
  EXPECT_EQ(workflow_.Close(c, withdraw, kMonday).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::CloseCaseRequest completed;
  completed.set_reason(v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(workflow_.Close(c, completed, kMonday).status().code(),
            absl::StatusCode::kFailedPrecondition);  // ASSIGNED cannot be completed
}

TEST_F(CaseWorkflowTest, WithdrawalCancelsTasksPurgesPersonalDetailsAndTellsTheReferrer) {
  LoadedCase c = Opened();
  v1::Event withdrawn;
  withdrawn.mutable_referral_withdrawn()->set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
  events::Seal(withdrawn, "r1", "signpost-intake", kMonday);
  auto change = workflow_.Withdraw(c, withdrawn, kMonday + absl::Hours(1));
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->after.state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(c.kase.referral_notes(), "Amira prefers mornings.");  // opened with the notes
  EXPECT_FALSE(change->after.has_identity());
  EXPECT_TRUE(change->after.referral_notes().empty());
  EXPECT_FALSE(change->after.has_profile());
  EXPECT_EQ(change->after.SerializeAsString().find("Amira"), std::string::npos);
  ASSERT_EQ(change->tasks.size(), 1u);
  EXPECT_EQ(change->tasks[0].task.status(), v1::TASK_STATUS_CANCELLED);
  EXPECT_THAT(Feedback(*change), ElementsAre(v1::FEEDBACK_KIND_WITHDRAWN));
  EXPECT_EQ(workflow_.Withdraw(Apply(*change), withdrawn, kMonday).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Before any match: a withdrawn record that the match will find.
  withdrawn.mutable_referral_withdrawn()->set_referrer_ods_code("A81001");
  events::Seal(withdrawn, "r9", "signpost-intake", kMonday);
  auto early = workflow_.Withdraw(std::nullopt, withdrawn, kMonday);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->expected_version, 0);
  EXPECT_EQ(early->after.state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_THAT(Feedback(*early), ElementsAre(v1::FEEDBACK_KIND_WITHDRAWN));
}

TEST_F(CaseWorkflowTest, ReassignmentMovesOpenTasksAndGivesTheNewWorkerATask) {
  LoadedCase c = Opened();
  v1::ReassignCaseRequest reassign;
  reassign.set_link_worker_id("lw-1");
  reassign.set_to_link_worker_id("lw-2");
  auto change = workflow_.Reassign(c, reassign, kMonday);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->after.link_worker_id(), "lw-2");
  ASSERT_EQ(change->tasks.size(), 2u);
  EXPECT_EQ(change->tasks[0].previous_queue, "lw-1");
  EXPECT_EQ(QueueOf(change->tasks[0].task), "lw-2");
  EXPECT_EQ(change->tasks[1].task.kind(), v1::TASK_KIND_REASSIGNED_CASE);
  EXPECT_EQ(QueueOf(change->tasks[1].task), "lw-2");
  reassign.set_to_link_worker_id("lw-1");
  EXPECT_EQ(workflow_.Reassign(c, reassign, kMonday).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The case keeps what happened to it (A2: the link-worker app shows it): each case event the
// workflow emits, with when, in order; never the person's notes or details.
TEST_F(CaseWorkflowTest, TheHistoryListsEachCaseEventInOrderWithItsTime) {
  LoadedCase c = Opened();
  v1::RecordContactRequest contact;
  contact.set_link_worker_id("lw-1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  contact.set_note("Spoke to Amira on 07700900123");
  auto contacted = workflow_.RecordContact(c, contact, kMonday + absl::Hours(1));
  ASSERT_TRUE(contacted.ok()) << contacted.status();
  c = Carry(c, *contacted);
  v1::AgreePlanRequest plan;
  plan.set_link_worker_id("lw-1");
  plan.set_plan("Amira would like to walk twice a week");
  auto agreed = workflow_.AgreePlan(c, plan, kMonday + absl::Hours(2));
  ASSERT_TRUE(agreed.ok()) << agreed.status();
  c = Carry(c, *agreed);
  v1::RecordConnectionRequest connect;
  connect.set_link_worker_id("lw-1");
  connect.set_resource_id("walk-1");
  auto connected = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(3));
  ASSERT_TRUE(connected.ok()) << connected.status();

  const auto& history = connected->after.history();
  ASSERT_EQ(history.size(), 4);
  std::vector<v1::CaseState> to;
  std::vector<absl::Time> at;
  for (const auto& entry : history) {
    to.push_back(entry.event().to_state());
    at.push_back(events::FromTimestamp(entry.at()));
  }
  EXPECT_THAT(to, ElementsAre(v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONTACTING,
                              v1::CASE_STATE_ENGAGED, v1::CASE_STATE_CONNECTED));
  EXPECT_THAT(at, ElementsAre(kMonday, kMonday + absl::Hours(1), kMonday + absl::Hours(2),
                              kMonday + absl::Hours(3)));
  // The detail each caller set on its event is in the history too.
  EXPECT_EQ(history[1].event().contact_result(), v1::CONTACT_RESULT_REACHED);
  EXPECT_EQ(history[1].event().actor(), "lw-1");
  EXPECT_EQ(history[2].event().reason(), "plan agreed");
  EXPECT_EQ(history[3].event().connected_resource_id(), "walk-1");
  // The same as the event on the topic, which is what the history copies.
  for (const auto& outgoing : connected->events) {
    if (outgoing.event.has_case_event()) {
      EXPECT_EQ(history[3].event().SerializeAsString(),
                outgoing.event.case_event().SerializeAsString());
    }
  }
  // Nothing of the person: not the note, the plan, the name or the phone number.
  std::string kept;
  for (const auto& entry : history) kept += entry.SerializeAsString();
  for (const char* personal : {"Amira", "07700900123", "twice a week", "Spoke"}) {
    EXPECT_EQ(kept.find(personal), std::string::npos) << personal;
  }
  // A change with no case event (a task marked done) adds nothing.
  c = Carry(c, *connected);
  EXPECT_EQ(c.kase.history_size(), 4);
}

TEST_F(CaseWorkflowTest, TheHistoryKeepsTheLast50Events) {
  LoadedCase c = Opened();  // 1: assigned
  v1::RecordContactRequest contact;
  contact.set_link_worker_id("lw-1");
  contact.set_result(v1::CONTACT_RESULT_NO_ANSWER);
  for (int i = 0; i < 49; ++i) {  // 2..50
    auto change = workflow_.RecordContact(c, contact, kMonday + absl::Minutes(i + 1));
    ASSERT_TRUE(change.ok()) << change.status();
    c = Carry(c, *change);
  }
  ASSERT_EQ(c.kase.history_size(), 50);
  EXPECT_EQ(c.kase.history(0).event().to_state(), v1::CASE_STATE_ASSIGNED);

  auto fifty_first = workflow_.RecordContact(c, contact, kMonday + absl::Hours(2));
  ASSERT_TRUE(fifty_first.ok()) << fifty_first.status();
  const auto& history = fifty_first->after.history();
  ASSERT_EQ(history.size(), 50);
  // The oldest (the assignment) went; the first contact attempt is now first.
  EXPECT_EQ(history[0].event().reason(), "contact attempt 1");
  EXPECT_EQ(events::FromTimestamp(history[0].at()), kMonday + absl::Minutes(1));
  EXPECT_EQ(history[49].event().reason(), "contact attempt 50");
  EXPECT_EQ(events::FromTimestamp(history[49].at()), kMonday + absl::Hours(2));
}

// Withdrawal purges the wellbeing scores from the case, and from its history's outcome events;
// what happened, and when, stays.
TEST_F(CaseWorkflowTest, WithdrawalRemovesTheScoresFromTheHistory) {
  LoadedCase c = Opened();
  v1::RecordOutcomeRequest outcome;
  outcome.set_link_worker_id("lw-1");
  outcome.mutable_measure()->mutable_ons4()->set_life_satisfaction(4);
  auto measured = workflow_.RecordOutcome(c, outcome, kMonday + absl::Hours(1));
  ASSERT_TRUE(measured.ok()) << measured.status();
  c = Carry(c, *measured);
  ASSERT_EQ(c.kase.history_size(), 2);
  EXPECT_TRUE(c.kase.history(1).event().has_outcome());

  v1::Event withdrawn;
  withdrawn.mutable_referral_withdrawn()->set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
  events::Seal(withdrawn, "r1", "signpost-intake", kMonday);
  auto change = workflow_.Withdraw(c, withdrawn, kMonday + absl::Hours(2));
  ASSERT_TRUE(change.ok()) << change.status();
  const auto& history = change->after.history();
  ASSERT_EQ(history.size(), 3);
  EXPECT_FALSE(history[1].event().has_outcome());
  EXPECT_EQ(history[1].event().reason(), "baseline outcome measure");
  EXPECT_EQ(history[2].event().to_state(), v1::CASE_STATE_WITHDRAWN);
}

TEST(CaseAccessTest, AQueueSeesItsOwnCasesAndTheTeamQueueOnlyUnassignedOnes) {
  v1::Case kase;
  kase.set_referral_id("r1");
  kase.set_link_worker_id("lw-1");
  kase.set_network_id("pcn-north");
  EXPECT_TRUE(CheckCaseAccess("lw-1", kase).ok());
  EXPECT_EQ(CheckCaseAccess("lw-2", kase).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCaseAccess("team:pcn-north", kase).code(), absl::StatusCode::kPermissionDenied);
  kase.clear_link_worker_id();
  EXPECT_TRUE(CheckCaseAccess("team:pcn-north", kase).ok());
  EXPECT_EQ(CheckCaseAccess("team:pcn-south", kase).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckQueueName("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckQueueName("lw 1").code(), absl::StatusCode::kInvalidArgument);
}

TEST(CaseAccessTest, ATokenActsAsItsOwnQueueOnly) {
  constexpr absl::string_view kRpc = "FollowUpService/ListTasks";
  auto worker = signpost::testing::LinkWorker("lw-1", "pcn-north");
  EXPECT_EQ(*ActingQueue(worker, "", kRpc), "lw-1");
  EXPECT_EQ(*ActingQueue(worker, "lw-1", kRpc), "lw-1");
  EXPECT_EQ(ActingQueue(worker, "lw-2", kRpc).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ActingQueue(worker, "team:pcn-north", kRpc).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto coordinator = signpost::testing::Coordinator("pcn-north");
  EXPECT_EQ(*ActingQueue(coordinator, "", kRpc), "team:pcn-north");
  EXPECT_EQ(ActingQueue(coordinator, "team:pcn-south", kRpc).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ActingQueue(coordinator, "lw-1", kRpc).status().code(),
            absl::StatusCode::kPermissionDenied);
  for (const auth::Principal& no_queue :
       {signpost::testing::Referrer({"A81001"}), signpost::testing::Ops(),
        signpost::testing::DirectoryAdmin()}) {
    absl::Status denied = ActingQueue(no_queue, "lw-1", kRpc).status();
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(denied.message()), ::testing::HasSubstr(std::string(kRpc)));
  }
  // Without authentication the request names the queue, as before.
  EXPECT_EQ(*ActingQueue(auth::DevelopmentCaller(), "lw-2", kRpc), "lw-2");
  EXPECT_EQ(ActingQueue(auth::DevelopmentCaller(), "", kRpc).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The unrouted queue is its coordinator's alone: not a token's without a network, nor another
// network's.
TEST(CaseAccessTest, OnlyTheUnroutedCoordinatorWorksTheUnroutedQueue) {
  constexpr absl::string_view kRpc = "FollowUpService/SubscribeTasks";
  EXPECT_EQ(*ActingQueue(signpost::testing::Coordinator("unrouted"), "", kRpc), "team:unrouted");
  EXPECT_EQ(ActingQueue(signpost::testing::Coordinator(""), "", kRpc).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ActingQueue(signpost::testing::Coordinator("pcn-north"), "team:unrouted", kRpc)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  v1::Case kase;
  kase.set_referral_id("r1");
  kase.set_network_id("unrouted");
  EXPECT_TRUE(CheckCaseAccess("team:unrouted", kase).ok());
  EXPECT_EQ(CheckCaseAccess("team:pcn-north", kase).code(), absl::StatusCode::kPermissionDenied);
  kase.set_link_worker_id("lw-1");  // routed: the link worker's now
  EXPECT_TRUE(CheckCaseAccess("lw-1", kase).ok());
  EXPECT_EQ(CheckCaseAccess("team:unrouted", kase).code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace signpost::followup
