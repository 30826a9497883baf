#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "common/config/common_config.h"
#include "common/kafka/kafka_producer.h"
#include "services/followup/case_workflow.h"
#include "services/followup/outbox_publisher.h"

namespace signpost::followup {

// signpost-followup's settings: the common ones and its own flags.
struct FollowUpConfig {
  CommonConfig common;
  std::string data_keys;  // the keyring that seals and opens personal details
  std::string directory;
  int first_contact_working_days = 3;
  int priority_first_contact_working_days = 1;
  double at_risk_fraction = 0.66;
  std::vector<int> check_in_days = {14, 42};
  int check_in_working_days = 5;
  std::vector<std::string> holidays;
  std::string time_zone = "Europe/London";
  int scheduler_interval_ms = 1000;
  std::string clock_offset_file;
  std::string redis_key_prefix = "fu:";
  int feed_max_length = 10000;
  // case_retention.h says why these defaults.
  int closed_case_retention_days = 30;
  int closed_case_tombstone_days = 365;
  int retention_sweep_seconds = 60;
  int workers = 16;
  int queue_limit = 256;
  // The link-worker app's task streams (server-sent events): each holds a listener thread.
  int app_max_streams = 32;
  int app_stream_max_seconds = 600;
};

// Registers the common flags and follow-up's own on `app`.
void AddFollowUpOptions(CLI::App& app, FollowUpConfig& config);

// The deadlines and check-ins the flags describe, events signed by `producer`; INVALID_ARGUMENT
// naming the setting otherwise.
absl::StatusOr<WorkflowOptions> WorkflowOptionsFrom(const FollowUpConfig& config,
                                                    std::string producer);

// The outbox's lease, made to outlast the longest send of a producer with `sends`; the error
// (INVALID_ARGUMENT naming the setting) when none can, for the service does not start then.
absl::StatusOr<OutboxLease> OutboxLeaseFor(const kafka::ProducerOptions& sends);

}  // namespace signpost::followup
