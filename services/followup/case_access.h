#pragma once

#include <string>

#include "absl/status/status.h"
#include "signpost/v1/followup.pb.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// The one place that says who may see and act on what. Today the acting queue is named in each
// request; once callers are authenticated, the authenticated identity is checked against it here.

// The queue a task belongs to: its link worker's, or its network's team queue "team:<network>".
std::string QueueOf(const v1::Task& task);
std::string TeamQueue(const std::string& network_id);

// INVALID_ARGUMENT when `queue` is not a usable queue name (field "link_worker_id").
absl::Status CheckQueueName(const std::string& queue);

// PERMISSION_DENIED unless `queue` is the case's link worker, or the case's team queue while no
// link worker holds it.
absl::Status CheckCaseAccess(const std::string& queue, const v1::Case& kase);

}  // namespace signpost::followup
