#include "services/followup/case_state_machine.h"

#include "common/events/case_states.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace signpost::followup {
namespace {

using v1::CaseState;

// The forward path; the exits are allowed from every open state.
std::vector<CaseState> ForwardFrom(CaseState from) {
  switch (from) {
    case v1::CASE_STATE_ASSIGNED:
      return {v1::CASE_STATE_CONTACTING};
    case v1::CASE_STATE_CONTACTING:
      return {v1::CASE_STATE_ENGAGED};
    case v1::CASE_STATE_ENGAGED:
      return {v1::CASE_STATE_CONNECTED, v1::CASE_STATE_CLOSED};
    case v1::CASE_STATE_CONNECTED:
      return {v1::CASE_STATE_FOLLOW_UP, v1::CASE_STATE_CLOSED};
    case v1::CASE_STATE_FOLLOW_UP:
      return {v1::CASE_STATE_CLOSED};
    default:
      return {};
  }
}

constexpr CaseState kExits[] = {v1::CASE_STATE_DECLINED, v1::CASE_STATE_UNABLE_TO_CONTACT,
                                v1::CASE_STATE_WITHDRAWN, v1::CASE_STATE_EXPIRED};

}  // namespace

bool IsTerminal(CaseState state) { return events::IsCaseEnded(state); }

std::string StateName(CaseState state) {
  return std::string(absl::StripPrefix(v1::CaseState_Name(state), "CASE_STATE_"));
}

absl::Status CheckTransition(CaseState from, CaseState to) {
  if (from == v1::CASE_STATE_UNSPECIFIED || !v1::CaseState_IsValid(from)) {
    return absl::FailedPreconditionError("the case has no state");
  }
  if (IsTerminal(from)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the case is ", StateName(from), ": nothing more can be recorded on it"));
  }
  if (to == from) return absl::OkStatus();
  std::vector<CaseState> allowed = ForwardFrom(from);
  for (CaseState exit : kExits) allowed.push_back(exit);
  for (CaseState next : allowed) {
    if (next == to) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the case is ", StateName(from), " and cannot become ", StateName(to), "; from ",
      StateName(from), " it can become ",
      absl::StrJoin(allowed, ", ",
                    [](std::string* out, CaseState s) { out->append(StateName(s)); })));
}

}  // namespace signpost::followup
