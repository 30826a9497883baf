#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "signpost/v1/common.pb.h"

namespace signpost::matching {

// How far and how many: per deployment, per need.
struct MatchPolicy {
  double default_radius_km = 5.0;
  std::map<v1::NeedCategory, double> radius_km;  // per need, overriding the default
  // A person with a transport barrier is offered nearer options: the radius is scaled by this.
  double transport_barrier_factor = 0.5;
  int top_k = 3;
  // Entries whose assured date is older than this are stale: excluded when exclude_stale, else
  // offered with a warning in their reasons.
  absl::Duration max_assured_age = absl::Hours(24 * 365);
  bool exclude_stale = false;
  // The Index of Multiple Deprivation edition of the postcode data's deciles, recorded with a
  // decile matching derives for a referral that came without one (deciles of two editions rank
  // different areas and are not compared).
  std::string imd_edition = "IoD2025";
  // Deciles that make a referral priority (Core20), as intake's policy: a referral intake could
  // not triage by deprivation (no decile sent) is raised when its derived decile is one of these.
  std::set<int> priority_imd_deciles = {1, 2};

  double RadiusKm(v1::NeedCategory need, bool transport_barrier) const {
    auto it = radius_km.find(need);
    double radius = it == radius_km.end() ? default_radius_km : it->second;
    return transport_barrier ? radius * transport_barrier_factor : radius;
  }
};

// Reads per-need radii written as NEED=KM (need named as in the proto without its prefix, any
// case: "physical_activity=3"), as operators give them on the command line.
absl::Status ParseNeedRadii(const std::vector<std::string>& entries,
                            std::map<v1::NeedCategory, double>& radius_km);

}  // namespace signpost::matching
