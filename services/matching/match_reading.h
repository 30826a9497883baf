#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/matching/assignment.h"
#include "services/matching/directory_index.h"
#include "services/matching/match_policy.h"
#include "services/matching/referral_matcher.h"
#include "services/matching/roster.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::matching {

// What matching one referral takes from Redis, with its link worker chosen (not yet recorded):
// where the person is, the candidates for each need, and the assignment with its reasons; or, for
// a referral matched before, only its events as first recorded.
struct MatchReading {
  PersonLocation location;
  std::vector<std::vector<Found>> found;  // per need, in the referral's order
  Assignment assignment;
  // What the assignment was decided on, to record it with the referral's events
  // (Roster::RecordMatches; the events are added by whoever builds them).
  Roster::MatchToRecord to_record;
  // The referral's events as first recorded (a redelivery): published again as they are, and
  // nothing above is read or decided.
  std::vector<std::string> recorded;
  // The candidates as the matcher takes them (pointing into `found`).
  std::vector<std::vector<Candidate>> Candidates() const;
};

// One round trip (two when records changed since they were last read): the reading and the
// assignment the rule gives on the caseloads read.
absl::StatusOr<MatchReading> ReadForMatching(DirectoryIndex& directory,
                                             const std::string& referral_id,
                                             const v1::Referral& referral,
                                             const MatchPolicy& policy);

struct ToMatch {
  const std::string* referral_id;
  const v1::Referral* referral;
};
// The same for a batch in one round trip, decided in order as one by one: each assignment sees
// the caseloads the ones before it in the batch will raise once recorded.
std::vector<absl::StatusOr<MatchReading>> ReadForMatchingMany(DirectoryIndex& directory,
                                                              const std::vector<ToMatch>& batch,
                                                              const MatchPolicy& policy);

}  // namespace signpost::matching
