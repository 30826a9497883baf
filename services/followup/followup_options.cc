#include "services/followup/followup_options.h"

#include "absl/strings/str_cat.h"
#include "services/followup/deadline_policy.h"

namespace signpost::followup {

void AddFollowUpOptions(CLI::App& app, FollowUpConfig& config) {
  AddCommonOptions(app, config.common);
  app.add_option("--data-keys", config.data_keys,
                 "Keyring file that seals and opens personal details on the bus")
      ->envname("SIGNPOST_DATA_KEYS");
  app.add_option("--directory", config.directory,
                 "signpost-matching's gRPC address, where connections reserve places")
      ->envname("SIGNPOST_DIRECTORY_ADDR");
  app.add_option("--first-contact-working-days", config.first_contact_working_days,
                 "First contact due within this many working days")
      ->envname("SIGNPOST_FIRST_CONTACT_WORKING_DAYS")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--priority-first-contact-working-days",
                 config.priority_first_contact_working_days,
                 "First contact due within this many working days for a priority referral")
      ->envname("SIGNPOST_PRIORITY_FIRST_CONTACT_WORKING_DAYS")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--at-risk-fraction", config.at_risk_fraction,
                 "Share of the first-contact window after which the case is at risk")
      ->check(CLI::Range(0.1, 0.99))
      ->capture_default_str();
  app.add_option("--check-in-days", config.check_in_days,
                 "Follow-up check-ins, in days after a connection")
      ->envname("SIGNPOST_CHECK_IN_DAYS")
      ->delimiter(',')
      ->check(CLI::Range(1, 365))
      ->capture_default_str();
  app.add_option("--check-in-working-days", config.check_in_working_days,
                 "How long a check-in task has before it is overdue")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--holidays", config.holidays, "Bank holidays (YYYY-MM-DD), comma-separated")
      ->envname("SIGNPOST_HOLIDAYS")
      ->delimiter(',');
  app.add_option("--time-zone", config.time_zone, "Where working days are counted")
      ->envname("SIGNPOST_TIME_ZONE")
      ->capture_default_str();
  app.add_option("--scheduler-interval-ms", config.scheduler_interval_ms,
                 "How often due timers are looked for")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  app.add_option("--clock-offset-file", config.clock_offset_file,
                 "Shift the clock by the seconds written in this file (drills and tests)")
      ->envname("SIGNPOST_CLOCK_OFFSET_FILE");
  app.add_option("--redis-key-prefix", config.redis_key_prefix, "Prefix of follow-up keys")
      ->capture_default_str();
  app.add_option("--feed-max-length", config.feed_max_length,
                 "Task updates kept per queue for resuming subscribers")
      ->check(CLI::Range(100, 10000000))
      ->capture_default_str();
  app.add_option("--closed-case-retention-days", config.closed_case_retention_days,
                 "How long an ended case (closed, declined, unable to contact, withdrawn, "
                 "expired) stays in Redis after its last change; then GetCase answers "
                 "FAILED_PRECONDITION 'no longer held'")
      ->envname("SIGNPOST_CLOSED_CASE_RETENTION_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--closed-case-tombstone-days", config.closed_case_tombstone_days,
                 "How long after a case left GetCase still says 'no longer held' (then "
                 "NOT_FOUND, as for an id never seen)")
      ->envname("SIGNPOST_CLOSED_CASE_TOMBSTONE_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--retention-sweep-seconds", config.retention_sweep_seconds,
                 "How often ended cases past their retention are removed from Redis")
      ->envname("SIGNPOST_RETENTION_SWEEP_SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--workers", config.workers,
                 "Threads that run calls (they wait on Redis, Kafka and the directory; gRPC "
                 "threads do not)")
      ->envname("SIGNPOST_FOLLOWUP_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Calls that may wait for a worker; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_FOLLOWUP_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--app-max-streams", config.app_max_streams,
                 "Live task streams of the link-worker app open at once (each holds a thread of "
                 "the HTTP listener); beyond them a stream is refused 503 and the page retries")
      ->envname("SIGNPOST_FOLLOWUP_APP_MAX_STREAMS")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--app-stream-max-seconds", config.app_stream_max_seconds,
                 "A task stream of the link-worker app ends after this long; the page resumes "
                 "it where it left off")
      ->envname("SIGNPOST_FOLLOWUP_APP_STREAM_MAX_SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
}

absl::StatusOr<WorkflowOptions> WorkflowOptionsFrom(const FollowUpConfig& config,
                                                    std::string producer) {
  WorkflowOptions options;
  options.producer = std::move(producer);
  DeadlinePolicy& d = options.deadlines;
  d.first_contact_working_days = config.first_contact_working_days;
  d.priority_first_contact_working_days = config.priority_first_contact_working_days;
  d.at_risk_fraction = config.at_risk_fraction;
  d.check_ins.clear();
  for (int days : config.check_in_days) d.check_ins.push_back(absl::Hours(24) * days);
  auto holidays = ParseHolidays(config.holidays);
  if (!holidays.ok()) return holidays.status();
  d.holidays = *std::move(holidays);
  if (!absl::LoadTimeZone(config.time_zone, &d.zone)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time zone '", config.time_zone, "' is unknown (is the tzdata package installed?)"));
  }
  options.check_in_working_days = config.check_in_working_days;
  return options;
}

absl::StatusOr<OutboxLease> OutboxLeaseFor(const kafka::ProducerOptions& sends) {
  auto longest_send = LongestSend(sends.delivery_timeout, sends.properties);
  if (!longest_send.ok()) return longest_send.status();
  OutboxLease lease = OutboxLease::For(*longest_send);
  if (absl::Status s = lease.Check(); !s.ok()) return s;
  return lease;
}

}  // namespace signpost::followup
