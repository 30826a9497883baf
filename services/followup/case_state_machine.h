#pragma once

#include "absl/status/status.h"
#include "signpost/v1/followup.pb.h"

namespace signpost::followup {

// The life of a case: assigned -> contacting -> engaged -> connected -> follow-up -> closed, with
// exits from any open state to declined, unable to contact, withdrawn or expired. Closed (with
// an outcome) is also reachable from engaged and connected: not every plan needs a connection.

// True once nothing moves on from the state.
bool IsTerminal(v1::CaseState state);

// OK when a case may move from `from` to `to` (staying in an open state is allowed: an action
// that changes no state, such as a further contact attempt). Otherwise FAILED_PRECONDITION that
// names the current state and what it allows.
absl::Status CheckTransition(v1::CaseState from, v1::CaseState to);

// "CONTACTING" rather than "CASE_STATE_CONTACTING", for messages.
std::string StateName(v1::CaseState state);

}  // namespace signpost::followup
