#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/matching/match_policy.h"
#include "signpost/v1/referral.pb.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// A resource found for a need: reached in person at `distance_km`, or remotely (online, phone).
struct Candidate {
  const v1::Resource* resource = nullptr;
  double distance_km = 0.0;
  bool remote = false;
};

// Why a candidate cannot be offered, in the categories gap reports count.
struct Exclusion {
  enum class Kind { kInactive, kReach, kEligibility, kCapacity, kLanguage, kAccess, kStale };
  Kind kind;
  std::string reason;
};

// Pure. The hard filters: active, within reach (remote ones only when the person can use them),
// age and group eligibility, places or an open waitlist, language or interpreter when one is
// needed, step-free / BSL / hearing loop when needed, not stale (when the policy excludes stale
// entries). nullopt when the candidate may be offered.
std::optional<Exclusion> WhyExcluded(const Candidate& candidate, const v1::PersonProfile& person,
                                     v1::NeedCategory need, const MatchPolicy& policy,
                                     absl::Time now);

// The groups a person belongs to, stated or implied (age, sex, ethnic category).
bool BelongsTo(const v1::PersonProfile& person, v1::InclusionGroup group);

// What a resource offers: a delivery mode, a language (ISO 639-1).
bool Offers(const v1::Resource& resource, v1::DeliveryMode mode);
bool Speaks(const v1::Resource& resource, const std::string& language);

// True when the assured date is older than the policy allows.
bool IsStale(const v1::Resource& resource, const MatchPolicy& policy, absl::Time now);

}  // namespace signpost::matching
