#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/matching/candidate_filter.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

// Pure. Orders acceptable candidates best first: nearer, more places, fresher, free, and a
// better fit for the person's language and access needs; ties break on resource id, so the same
// referral and directory always give the same order. Each option carries short reasons for the
// link worker ("0.8 km, step-free, 3 places left, speaks Bengali").
std::vector<v1::MatchedOption> RankOptions(const std::vector<Candidate>& acceptable,
                                           const v1::PersonProfile& person,
                                           const MatchPolicy& policy, absl::Time now);

// English name of an ISO 639-1 code for reasons ("bn" -> "Bengali"); the code when unknown.
std::string LanguageName(const std::string& code);

}  // namespace signpost::matching
