#include "services/followup/case_state_machine.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace signpost::followup {
namespace {

using S = v1::CaseState;

const std::set<std::pair<S, S>>& Allowed() {
  static const auto* allowed = [] {
    auto* a = new std::set<std::pair<S, S>>{
        {v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONTACTING},
        {v1::CASE_STATE_CONTACTING, v1::CASE_STATE_ENGAGED},
        {v1::CASE_STATE_ENGAGED, v1::CASE_STATE_CONNECTED},
        {v1::CASE_STATE_ENGAGED, v1::CASE_STATE_CLOSED},
        {v1::CASE_STATE_CONNECTED, v1::CASE_STATE_FOLLOW_UP},
        {v1::CASE_STATE_CONNECTED, v1::CASE_STATE_CLOSED},
        {v1::CASE_STATE_FOLLOW_UP, v1::CASE_STATE_CLOSED},
    };
    for (S open : {v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONTACTING, v1::CASE_STATE_ENGAGED,
                   v1::CASE_STATE_CONNECTED, v1::CASE_STATE_FOLLOW_UP}) {
      a->insert({open, open});
      for (S exit : {v1::CASE_STATE_DECLINED, v1::CASE_STATE_UNABLE_TO_CONTACT,
                     v1::CASE_STATE_WITHDRAWN, v1::CASE_STATE_EXPIRED}) {
        a->insert({open, exit});
      }
    }
    return a;
  }();
  return *allowed;
}

// Every pair of states: the allowed ones pass, every other one is refused.
TEST(CaseStateMachineTest, EveryPairOfStatesIsAllowedExactlyWhenTheLifecycleSaysSo) {
  int allowed = 0;
  for (int from = v1::CASE_STATE_ASSIGNED; from <= v1::CASE_STATE_EXPIRED; ++from) {
    for (int to = v1::CASE_STATE_ASSIGNED; to <= v1::CASE_STATE_EXPIRED; ++to) {
      S f = static_cast<S>(from), t = static_cast<S>(to);
      absl::Status s = CheckTransition(f, t);
      bool expected = Allowed().count({f, t}) > 0;
      EXPECT_EQ(s.ok(), expected) << StateName(f) << " -> " << StateName(t) << ": " << s;
      if (!expected) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      }
      allowed += s.ok();
    }
  }
  EXPECT_EQ(allowed, 32);  // 7 forward + 5 stays + 5 x 4 exits
}

TEST(CaseStateMachineTest, ARefusalNamesTheCurrentStateAndWhatItAllows) {
  absl::Status skip = CheckTransition(v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONNECTED);
  EXPECT_EQ(skip.message(),
            "the case is ASSIGNED and cannot become CONNECTED; from ASSIGNED it can become "
            "CONTACTING, DECLINED, UNABLE_TO_CONTACT, WITHDRAWN, EXPIRED");
  absl::Status closed = CheckTransition(v1::CASE_STATE_CLOSED, v1::CASE_STATE_CONTACTING);
  EXPECT_EQ(closed.message(), "the case is CLOSED: nothing more can be recorded on it");
  absl::Status back = CheckTransition(v1::CASE_STATE_FOLLOW_UP, v1::CASE_STATE_ENGAGED);
  EXPECT_NE(back.message().find("the case is FOLLOW_UP and cannot become ENGAGED"),
            absl::string_view::npos);
  EXPECT_FALSE(CheckTransition(v1::CASE_STATE_UNSPECIFIED, v1::CASE_STATE_ASSIGNED).ok());
}

TEST(CaseStateMachineTest, TerminalStates) {
  for (S s : {v1::CASE_STATE_CLOSED, v1::CASE_STATE_DECLINED, v1::CASE_STATE_UNABLE_TO_CONTACT,
              v1::CASE_STATE_WITHDRAWN, v1::CASE_STATE_EXPIRED}) {
    EXPECT_TRUE(IsTerminal(s)) << StateName(s);
  }
  for (S s : {v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONTACTING, v1::CASE_STATE_ENGAGED,
              v1::CASE_STATE_CONNECTED, v1::CASE_STATE_FOLLOW_UP}) {
    EXPECT_FALSE(IsTerminal(s)) << StateName(s);
  }
}

}  // namespace
}  // namespace signpost::followup
