#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace signpost::auth {

// What a caller is allowed to be. Each service says, in one place, what each role may do there.
enum class Role {
  kNone,  // nobody: allowed nothing (what a Principal is until someone says otherwise)
  // No authentication configured (--no-auth, development only): every call is let through and
  // the request's own fields say who acts.
  kDevelopment,
  kReferrer,        // a GP system or other referrer: its own organisations' referrals
  kLinkWorker,      // a link worker: their own tasks and cases
  kCoordinator,     // a network's coordinator: the network's team queue and its cases
  kDirectoryAdmin,  // writes to the directory of community resources
  kOps,             // the monitor and aggregates; never a person's details
};

// The caller of one call, as its bearer token says.
struct Principal {
  Role role = Role::kNone;
  std::string subject;                     // "sub": a link worker id, a system's or a person's name
  std::vector<std::string> organisations;  // referrer: the ODS codes it refers for
  std::string network;                     // link worker and coordinator: their network id
  // When the token stops being accepted (its exp plus the leeway): a stream opened with it ends
  // then.
  absl::Time accepted_until = absl::InfiniteFuture();

  bool Refers(absl::string_view ods_code) const;
};

// Who works a follow-up queue, for clients that sign their own tokens (signpostctl, the demo,
// the benchmarks): a team queue "team:<network>" is its network's coordinator (named
// `coordinator`), any other queue the link worker of that id, in `worker_network`.
Principal QueueOwner(const std::string& queue, const std::string& worker_network,
                     const std::string& coordinator = "coordinator");

// The caller of every call when authentication is off (--no-auth).
inline Principal DevelopmentCaller() { return {Role::kDevelopment, "development", {}, ""}; }

// "referrer", "link_worker", "coordinator", "directory_admin", "ops" (and "development",
// "none").
absl::string_view RoleName(Role role);
// INVALID_ARGUMENT naming the roles there are when `name` is none of them (nor "development",
// which no token may carry).
absl::StatusOr<Role> RoleFromName(absl::string_view name);

// PERMISSION_DENIED naming the role and the RPC (nothing about the data asked for) unless the
// caller has one of `roles`; a development caller always passes.
absl::Status RequireRole(const Principal& caller, std::initializer_list<Role> roles,
                         absl::string_view rpc);

}  // namespace signpost::auth
