#pragma once

#include <cstdint>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"

namespace signpost::kafka {

// How often a client reports its statistics when they are counted.
inline constexpr int kStatisticsIntervalMs = 1000;

// librdkafka's statistics (statistics.interval.ms) turned into counters of the process: the
// requests a client sent to the brokers, the bytes they carried and the messages produced or
// fetched, so that a benchmark can say
// what each referral costs Kafka in each service. The statistics are totals since the client was
// made; the counters take their increase, so that several clients of one process add up, and a
// replaced client (whose totals start again) counts from its start.
class ClientStatistics {
 public:
  // `role`: "producer" or "consumer", the counters' label.
  ClientStatistics(metrics::Registry& registry, const std::string& role);

  // One statistics report (librdkafka's JSON); one that cannot be read is skipped.
  void Record(absl::string_view json);

 private:
  metrics::Counter& requests_;
  metrics::Counter& request_bytes_;
  metrics::Counter& messages_;
  absl::Mutex mu_;
  int64_t last_requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_messages_ ABSL_GUARDED_BY(mu_) = 0;
};

// An event callback that records statistics events and logs errors as `what` ("kafka consumer").
class StatisticsEvents final : public RdKafka::EventCb {
 public:
  StatisticsEvents(ClientStatistics* statistics, std::string what)
      : statistics_(statistics), what_(std::move(what)) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  ClientStatistics* statistics_;  // may be null: errors are logged all the same
  std::string what_;
};

}  // namespace signpost::kafka
