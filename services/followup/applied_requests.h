#pragma once

#include <string>

#include "absl/status/status.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// How many of a case's last applied actions it remembers by request id: enough for every retry
// a client makes of one action (retries come within seconds, before the next action).
inline constexpr int kRememberedRequests = 32;

// A request id as a client may send it: empty (no id), or at most 64 printable ASCII characters
// (e.g. a UUID). Else INVALID_ARGUMENT naming request_id.
absl::Status CheckRequestId(const std::string& request_id);

// Whether the action named `request_id` was applied to `kase` already (a retry after a lost
// answer). The id alone names the action: what else the retry asks is not compared. Never true
// for an empty id.
bool AlreadyApplied(const v1::Case& kase, const std::string& request_id);

// Records in `kase` (the case as the action leaves it) that the action named `request_id` was
// applied, forgetting the oldest past kRememberedRequests. Nothing for an empty id.
void RememberApplied(v1::Case& kase, const std::string& request_id);

}  // namespace signpost::followup
