#include "services/followup/case_access.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "common/events/unrouted.h"
#include "common/status/field_violations.h"

namespace signpost::followup {

std::string TeamQueue(const std::string& network_id) {
  // No network (a match made before matching named the unrouted queue): the unrouted queue, which
  // a coordinator can work, never one nobody can.
  return absl::StrCat("team:", network_id.empty() ? events::kUnroutedNetworkId : network_id);
}

std::string QueueOf(const v1::Task& task) {
  return task.link_worker_id().empty() ? TeamQueue(task.network_id()) : task.link_worker_id();
}

absl::Status CheckQueueName(const std::string& queue) {
  if (queue.empty()) {
    return InvalidArgumentWithViolations(
        {{"link_worker_id", "required: a link worker id or team:<network id>"}});
  }
  if (queue.size() > 128) {
    return InvalidArgumentWithViolations({{"link_worker_id", "longer than 128 characters"}});
  }
  for (char c : queue) {
    if (c <= ' ' || c == 0x7f) {
      return InvalidArgumentWithViolations(
          {{"link_worker_id", "contains spaces or control characters"}});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ActingQueue(const auth::Principal& caller, const std::string& requested,
                                        absl::string_view rpc) {
  using auth::Role;
  if (absl::Status s = auth::RequireRole(caller, {Role::kLinkWorker, Role::kCoordinator}, rpc);
      !s.ok()) {
    return s;
  }
  std::string own;
  switch (caller.role) {
    case Role::kLinkWorker:
      own = caller.subject;
      break;
    case Role::kCoordinator:
      // A token with no network works no queue (not the unrouted one that TeamQueue("") names).
      if (!caller.network.empty()) own = TeamQueue(caller.network);
      break;
    default:  // development: the request names the queue
      if (absl::Status s = CheckQueueName(requested); !s.ok()) return s;
      return requested;
  }
  // A link worker named like a team queue would act as the network's coordinator.
  if (!CheckQueueName(own).ok() ||
      (caller.role == Role::kLinkWorker && absl::StartsWith(own, "team:"))) {
    return absl::PermissionDeniedError(absl::StrCat(rpc, ": the token names no usable queue"));
  }
  if (requested.empty() || requested == own) return own;
  return absl::PermissionDeniedError(
      absl::StrCat(rpc, ": link_worker_id is not a queue this token may act as"));
}

absl::Status CheckCaseAccess(const std::string& queue, const v1::Case& kase) {
  bool own = !kase.link_worker_id().empty() && queue == kase.link_worker_id();
  bool team = kase.link_worker_id().empty() && queue == TeamQueue(kase.network_id());
  if (own || team) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("referral ", kase.referral_id(), " is not a case of ", queue));
}

}  // namespace signpost::followup
