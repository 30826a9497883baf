#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "common/config/common_config.h"
#include "services/intake/priority.h"

namespace signpost::intake {

// signpost-intake's settings: the common ones and its own flags.
struct IntakeConfig {
  CommonConfig common;
  std::string data_keys;  // the keyring that seals and opens personal details
  std::vector<int> priority_imd_deciles = {1, 2};
  std::vector<std::string> priority_groups = {"carer",
                                              "veteran",
                                              "ethnic_minority",
                                              "experiencing_homelessness",
                                              "gypsy_roma_traveller",
                                              "vulnerable_migrant",
                                              "learning_disability_or_autism"};
  int delivery_timeout_ms = 10000;
  int dedup_retention_days = 400;
  // status_retention.h says why these defaults.
  int status_retention_days = 180;
  int status_tombstone_days = 365;
  int retention_sweep_seconds = 60;
  bool create_topics = false;
  int linger_ms = 5;
  int workers = 16;
  int queue_limit = 256;
  std::string clock_offset_file;
};

// Registers the common flags and intake's own on `app`.
void AddIntakeOptions(CLI::App& app, IntakeConfig& config);

// The priority rule the flags describe; INVALID_ARGUMENT naming the flag otherwise.
absl::StatusOr<PriorityPolicy> PolicyFrom(const IntakeConfig& config);

}  // namespace signpost::intake
