#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "signpost/v1/referral.pb.h"
#include "tools/region/synthetic_region.h"

namespace signpost::demo {

// Made-up but plausible referrals from the practices of a synthetic region, as GP systems send
// them: the person lives at one of the region's postcodes, drawn by how many people live there
// (so referrals come from each decile of deprivation as the region's population does); needs, ages,
// groups, languages and access needs follow the mixes link workers see (loneliness and low mood
// most often, then money, activity, long-term conditions, carers, housing). NHS numbers come from
// the 999 range the NHS keeps for testing. Pure: the same seed gives the same referrals.
class ReferralMaker {
 public:
  ReferralMaker(const region::Region& region, uint64_t seed);

  // A valid referral from `source_system`, referred at `now`; its source id is unique per maker.
  v1::Referral Make(const std::string& source_system, absl::Time now);
  // One that intake must refuse (a mistyped NHS number or a missing consent), as real systems
  // sometimes send.
  v1::Referral MakeFaulty(const std::string& source_system, absl::Time now);

 private:
  std::string NhsNumber();

  const region::Region& region_;
  std::vector<size_t> homes_;                     // the region's full postcodes (not its districts)
  std::discrete_distribution<size_t> pick_home_;  // by the share of people living there
  std::mt19937_64 rng_;
  uint64_t sequence_ = 0;
  uint64_t seed_;
};

}  // namespace signpost::demo
