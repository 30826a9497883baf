#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "tools/region/synthetic_region.h"

namespace signpost::demo {

// The queues the demo's simulated link-worker apps work, each with its owner (the token's
// principal): every link worker's queue and every network's team queue of the region, except the
// one left for a person (`leave_for_person`, empty: none), whose cases then wait until someone
// works them by hand in the link-worker app. INVALID_ARGUMENT naming --leave-for-person when the
// region has no such queue (a typo would otherwise leave nothing for anyone).
absl::StatusOr<std::map<std::string, auth::Principal>> WorkedQueues(
    const region::Region& region, const std::string& leave_for_person);

}  // namespace signpost::demo
