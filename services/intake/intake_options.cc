#include "services/intake/intake_options.h"

#include <cctype>

namespace signpost::intake {

void AddIntakeOptions(CLI::App& app, IntakeConfig& config) {
  AddCommonOptions(app, config.common);
  app.add_option("--data-keys", config.data_keys,
                 "Keyring file that seals and opens personal details on the bus")
      ->envname("SIGNPOST_DATA_KEYS");
  app.add_option("--priority-imd-deciles", config.priority_imd_deciles,
                 "IMD deciles flagged priority (Core20)")
      ->envname("SIGNPOST_PRIORITY_IMD_DECILES")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--priority-groups", config.priority_groups,
                 "PLUS groups flagged priority (carer, veteran, ethnic_minority, ...)")
      ->envname("SIGNPOST_PRIORITY_GROUPS")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--delivery-timeout-ms", config.delivery_timeout_ms,
                 "How long a submission waits for the broker before UNAVAILABLE")
      ->envname("SIGNPOST_DELIVERY_TIMEOUT_MS")
      ->check(CLI::Range(100, 300000))
      ->capture_default_str();
  app.add_option("--dedup-retention-days", config.dedup_retention_days,
                 "How long a submission is remembered for de-duplication")
      ->envname("SIGNPOST_DEDUP_RETENTION_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--status-retention-days", config.status_retention_days,
                 "How long a referral's status (GetReferral) is held after it reached a final "
                 "state (closed, withdrawn, rejected; an open referral's never expires); then "
                 "GetReferral answers FAILED_PRECONDITION 'no longer held'")
      ->envname("SIGNPOST_STATUS_RETENTION_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--status-tombstone-days", config.status_tombstone_days,
                 "How long after a status expired GetReferral still says 'no longer held' "
                 "(then NOT_FOUND, as for an id never seen)")
      ->envname("SIGNPOST_STATUS_TOMBSTONE_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--retention-sweep-seconds", config.retention_sweep_seconds,
                 "How often expired statuses and tombstones are removed from Redis")
      ->envname("SIGNPOST_RETENTION_SWEEP_SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--kafka-linger-ms", config.linger_ms,
                 "How long the producer gathers a batch (latency for throughput)")
      ->envname("SIGNPOST_KAFKA_LINGER_MS")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--workers", config.workers,
                 "Threads that run requests (they wait on Redis and Kafka, gRPC threads do not)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Calls that may wait for a worker, and (apart) submissions that may wait for "
                 "their claim in the submission store, and those that may wait on another "
                 "attempt publishing the same one; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_INTAKE_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--clock-offset-file", config.clock_offset_file,
                 "Shift the clock by the seconds written in this file (drills, tests)")
      ->envname("SIGNPOST_CLOCK_OFFSET_FILE");
  app.add_flag("--create-topics", config.create_topics,
               "Create the Signpost topics at start (development clusters)")
      ->envname("SIGNPOST_CREATE_TOPICS");
}

absl::StatusOr<PriorityPolicy> PolicyFrom(const IntakeConfig& config) {
  PriorityPolicy policy;
  policy.deprived_imd_deciles = {config.priority_imd_deciles.begin(),
                                 config.priority_imd_deciles.end()};
  policy.plus_groups.clear();
  for (const auto& name : config.priority_groups) {
    std::string upper = "INCLUSION_GROUP_";
    for (char c : name) upper.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    v1::InclusionGroup group;
    if (!v1::InclusionGroup_Parse(upper, &group) || group == v1::INCLUSION_GROUP_UNSPECIFIED) {
      return absl::InvalidArgumentError("--priority-groups: unknown group '" + name + "'");
    }
    policy.plus_groups.insert(group);
  }
  for (int decile : config.priority_imd_deciles) {
    if (decile < 1 || decile > 10) {
      return absl::InvalidArgumentError("--priority-imd-deciles: deciles are 1 to 10");
    }
  }
  return policy;
}

}  // namespace signpost::intake
