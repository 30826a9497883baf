#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "signpost/v1/followup.pb.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// The one place that says who may see and act on what at follow-up. Every call acts as one queue:
// the caller's bearer token says which (ActingQueue), the case says whether that queue may see it
// (CheckCaseAccess).

// The queue a task belongs to: its link worker's, or its network's team queue "team:<network>"
// ("team:unrouted" for a practice no network lists, worked by the region's coordinator).
std::string QueueOf(const v1::Task& task);
std::string TeamQueue(const std::string& network_id);

// INVALID_ARGUMENT when `queue` is not a usable queue name (field "link_worker_id").
absl::Status CheckQueueName(const std::string& queue);

// The queue `caller` acts as, given the one the request names (`requested`, "" for the caller's
// own): a link worker acts as themselves, a coordinator as their network's team queue, a
// development caller (no authentication) as the request says. PERMISSION_DENIED for a queue that
// is not the caller's, or for a role that works no queue (referrers, directory admins, ops).
absl::StatusOr<std::string> ActingQueue(const auth::Principal& caller, const std::string& requested,
                                        absl::string_view rpc);

// PERMISSION_DENIED unless `queue` is the case's link worker, or the case's team queue while no
// link worker holds it.
absl::Status CheckCaseAccess(const std::string& queue, const v1::Case& kase);

}  // namespace signpost::followup
