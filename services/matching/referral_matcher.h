#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/matching/assignment.h"
#include "services/matching/candidate_filter.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

// Where the person is, as far as the directory knows.
struct PersonLocation {
  enum class Basis { kPostcode, kDistrict, kNone };
  Basis basis = Basis::kNone;
  v1::GeoPoint point;
  std::string lsoa_code;
  int imd_decile = 0;
};

// One need left without an option. A referral may name a category twice, so the need is known by
// its position among the referral's needs (its event's id is built from it).
struct UnmetNeed {
  int need_index = 0;
  v1::NeedUnmet unmet;
};

struct MatchOutcome {
  v1::ReferralMatched matched;
  std::vector<UnmetNeed> unmet;  // in the referral's order
};

// Pure: the options for each need (candidates already found near the location, one list per
// need in the referral's order) and the unmet needs with why, plus the assignment. The matched
// referral's profile gains the LSOA and IMD decile of its postcode where the referrer gave none,
// and a derived decile in policy.priority_imd_deciles raises the match to priority.
MatchOutcome MatchReferral(const v1::ReferralReceived& received, const PersonLocation& location,
                           const std::vector<std::vector<Candidate>>& candidates_per_need,
                           const Assignment& assignment, const MatchPolicy& policy, absl::Time now);

}  // namespace signpost::matching
