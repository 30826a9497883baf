#include "services/intake/status_projection.h"

#include <gtest/gtest.h>

namespace signpost::intake {
namespace {

v1::Event CaseMovedTo(v1::CaseState state) {
  v1::Event e;
  e.mutable_envelope()->set_event_id("e1");
  e.mutable_case_event()->set_to_state(state);
  return e;
}

TEST(StatusProjectionTest, LifecycleEventsMapToReferralStates) {
  struct Case {
    v1::CaseState from;
    v1::ReferralState to;
  } cases[] = {
      {v1::CASE_STATE_ASSIGNED, v1::REFERRAL_STATE_ASSIGNED},
      {v1::CASE_STATE_CONTACTING, v1::REFERRAL_STATE_IN_CONTACT},
      {v1::CASE_STATE_ENGAGED, v1::REFERRAL_STATE_IN_CONTACT},
      {v1::CASE_STATE_CONNECTED, v1::REFERRAL_STATE_CONNECTED},
      {v1::CASE_STATE_FOLLOW_UP, v1::REFERRAL_STATE_CONNECTED},
      {v1::CASE_STATE_CLOSED, v1::REFERRAL_STATE_CLOSED},
      {v1::CASE_STATE_UNABLE_TO_CONTACT, v1::REFERRAL_STATE_CLOSED},
      {v1::CASE_STATE_WITHDRAWN, v1::REFERRAL_STATE_WITHDRAWN},
  };
  for (const auto& c : cases) {
    auto update = ProjectStatus(CaseMovedTo(c.from));
    ASSERT_TRUE(update.has_value()) << v1::CaseState_Name(c.from);
    EXPECT_EQ(update->change.state(), c.to) << v1::CaseState_Name(c.from);
  }

  v1::Event received;
  received.mutable_referral_received()->mutable_referral()->set_source_system("emis");
  received.mutable_referral_received()->set_priority(v1::URGENCY_PRIORITY);
  auto r = ProjectStatus(received);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->change.state(), v1::REFERRAL_STATE_RECEIVED);
  EXPECT_EQ(r->source.source_system(), "emis");
  EXPECT_EQ(r->priority, v1::URGENCY_PRIORITY);

  v1::Event matched;
  matched.mutable_referral_matched()->set_link_worker_id("lw-7");
  matched.mutable_referral_matched()->set_priority(v1::URGENCY_ROUTINE);
  EXPECT_EQ(ProjectStatus(matched)->change.state(), v1::REFERRAL_STATE_MATCHED);
  EXPECT_EQ(ProjectStatus(matched)->raised_priority, v1::URGENCY_UNSPECIFIED);
  // Matching raised it (a Core20 decile from the postcode): the view's priority follows, and the
  // step says why.
  matched.mutable_referral_matched()->set_priority(v1::URGENCY_PRIORITY);
  matched.mutable_referral_matched()->add_priority_reasons(
      "Core20: IMD decile 1 (IoD2025, from the postcode)");
  auto raised = ProjectStatus(matched);
  EXPECT_EQ(raised->raised_priority, v1::URGENCY_PRIORITY);
  EXPECT_EQ(raised->priority, v1::URGENCY_UNSPECIFIED);
  EXPECT_EQ(raised->change.detail(),
            "0 options for 0 needs; link worker lw-7; priority: Core20: IMD decile 1 (IoD2025, "
            "from the postcode)");

  v1::Event closed = CaseMovedTo(v1::CASE_STATE_CLOSED);
  closed.mutable_case_event()->set_closure_reason(v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(ProjectStatus(closed)->closure_reason, v1::CLOSURE_REASON_COMPLETED);
}

TEST(StatusProjectionTest, AssignmentAndConnectionsAreRecordedForTheTask) {
  v1::Event matched;
  matched.mutable_referral_matched()->set_link_worker_id("lw-7");
  EXPECT_EQ(ProjectStatus(matched)->link_worker_id, "lw-7");
  // On a team queue nobody has the case yet.
  matched.mutable_referral_matched()->set_link_worker_id("team:pcn-1");
  EXPECT_EQ(ProjectStatus(matched)->link_worker_id, "");

  v1::Event assigned = CaseMovedTo(v1::CASE_STATE_ASSIGNED);
  assigned.mutable_case_event()->set_link_worker_id("lw-7");
  EXPECT_EQ(ProjectStatus(assigned)->link_worker_id, "lw-7");
  EXPECT_FALSE(ProjectStatus(assigned)->connection);

  v1::Event reassigned = CaseMovedTo(v1::CASE_STATE_CONTACTING);
  reassigned.mutable_case_event()->set_link_worker_id("lw-7");
  reassigned.mutable_case_event()->set_reassigned_to("lw-9");
  EXPECT_EQ(ProjectStatus(reassigned)->link_worker_id, "lw-9");

  v1::Event connected = CaseMovedTo(v1::CASE_STATE_CONNECTED);
  connected.mutable_envelope()->mutable_occurred_at()->set_seconds(1796000150);
  connected.mutable_case_event()->set_link_worker_id("lw-9");
  connected.mutable_case_event()->set_reason("connected to Leeds Walking Group");
  connected.mutable_case_event()->set_connected_resource_id("res-walk");
  auto update = ProjectStatus(connected);
  ASSERT_TRUE(update && update->connection);
  EXPECT_EQ(update->connection->resource_id(), "res-walk");
  EXPECT_EQ(update->connection->resource_name(), "Leeds Walking Group");
  EXPECT_EQ(update->connection->at().seconds(), 1796000150);
  EXPECT_EQ(update->link_worker_id, "lw-9");
}

TEST(StatusProjectionTest, EventsThatDoNotChangeStatus) {
  v1::Event task;
  task.mutable_task_event();
  EXPECT_FALSE(ProjectStatus(task));
  v1::Event unmet;
  unmet.mutable_need_unmet();
  EXPECT_FALSE(ProjectStatus(unmet));
}

TEST(StatusProjectionTest, StatesNeverGoBackAndTerminalStatesStick) {
  EXPECT_EQ(CombineStates(v1::REFERRAL_STATE_ASSIGNED, v1::REFERRAL_STATE_MATCHED),
            v1::REFERRAL_STATE_ASSIGNED);
  EXPECT_EQ(CombineStates(v1::REFERRAL_STATE_RECEIVED, v1::REFERRAL_STATE_CONNECTED),
            v1::REFERRAL_STATE_CONNECTED);
  EXPECT_EQ(CombineStates(v1::REFERRAL_STATE_IN_CONTACT, v1::REFERRAL_STATE_WITHDRAWN),
            v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(CombineStates(v1::REFERRAL_STATE_WITHDRAWN, v1::REFERRAL_STATE_CLOSED),
            v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(CombineStates(v1::REFERRAL_STATE_CLOSED, v1::REFERRAL_STATE_ASSIGNED),
            v1::REFERRAL_STATE_CLOSED);
}

}  // namespace
}  // namespace signpost::intake
