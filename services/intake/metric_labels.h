#pragma once

#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace signpost::intake {

// Label values of intake's metrics come from bounded sets only: every distinct value is a time
// series kept for the life of the process and printed at every scrape, so a value taken from a
// submission as it came would let one caller grow intake without limit.

// A violation's field path without array indices: "profile.inclusion_groups[12]" ->
// "profile.inclusion_groups[]". Paths are named by intake's own rules, so the set is bounded.
std::string FieldLabel(absl::string_view field);

// The source systems named on intake's metrics: the first `max_named` that had a referral
// accepted (a validated name, and a system that really sends referrals); any other is "other",
// and none "unknown".
class SourceSystemLabels {
 public:
  explicit SourceSystemLabels(size_t max_named = 50) : max_named_(max_named) {}

  // The label of a system whose referral was accepted, remembering it while there is room.
  std::string Accepted(const std::string& source_system);
  // The label of a system for any other outcome: its own once known, else "other".
  std::string Of(const std::string& source_system) const;

 private:
  const size_t max_named_;
  mutable absl::Mutex mu_;
  std::set<std::string, std::less<>> named_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::intake
