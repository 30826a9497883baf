#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/matching/assignment.h"
#include "services/matching/directory_cache.h"
#include "services/matching/match_policy.h"
#include "services/matching/referral_matcher.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::matching {

// What matching one referral takes from Redis, with its link worker assigned once: where the
// person is, the candidates for each need, and the assignment with its reasons.
struct MatchReading {
  PersonLocation location;
  std::vector<std::vector<Found>> found;  // per need, in the referral's order
  Assignment assignment;
  // The candidates as the matcher takes them (pointing into `found`).
  std::vector<std::vector<Candidate>> Candidates() const;
};

// One round trip when this cache already knows the referring practice's team as the roster
// stands (the assignment is made inside it); two when it does not (the first referral from a
// practice, or after a roster change), plus one when records changed since they were last read.
absl::StatusOr<MatchReading> ReadForMatching(DirectoryCache& directory,
                                             const std::string& referral_id,
                                             const v1::Referral& referral,
                                             const MatchPolicy& policy);

struct ToMatch {
  const std::string* referral_id;
  const v1::Referral* referral;
};
// The same for a batch, in order, as one by one: referrals whose practice's team this cache knows
// are read together in one round trip; the others (a practice's first referral, or all of them
// after a roster change) one at a time, as those need a second trip for their assignment.
std::vector<absl::StatusOr<MatchReading>> ReadForMatchingMany(DirectoryCache& directory,
                                                              const std::vector<ToMatch>& batch,
                                                              const MatchPolicy& policy);

}  // namespace signpost::matching
