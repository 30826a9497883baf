#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "common/config/common_config.h"
#include "services/matching/matching_handler.h"

namespace signpost::matching {

// signpost-matching's settings: the common ones and its own flags.
struct MatchingConfig {
  CommonConfig common;
  std::string postcodes;
  double radius_km = 5.0;
  std::vector<std::string> need_radius_km;
  double transport_barrier_factor = 0.5;
  int top_k = 3;
  int max_assured_age_days = 365;
  bool exclude_stale = false;
  std::string imd_edition = "IoD2025";
  std::vector<int> priority_imd_deciles = {1, 2};
  int workers = 16;
  int queue_limit = 256;
};

// Registers the common flags and matching's own on `app`.
void AddMatchingOptions(CLI::App& app, MatchingConfig& config);

// The matching rule the flags describe, events signed by `producer_name`; INVALID_ARGUMENT naming
// the setting otherwise.
absl::StatusOr<MatchingOptions> MatchingOptionsFrom(const MatchingConfig& config,
                                                    std::string producer_name);

}  // namespace signpost::matching
