#pragma once

#include <cstdint>
#include <map>
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
// what each referral costs Kafka in each service. The statistics are totals since a client handle
// was made; the counters take each handle's increase (by its name), so that a producer replaced
// after a fatal error, whose old handle still reports while it flushes, counts once.
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
  struct Totals {
    int64_t requests = 0, bytes = 0, messages = 0;
  };
  absl::Mutex mu_;
  // The last totals of each handle (a few: one, and its replacements).
  std::map<std::string, Totals> last_ ABSL_GUARDED_BY(mu_);
};

// An event callback that records statistics events and logs librdkafka's errors and log lines
// (which it sends here instead of to stderr once a callback is set) as `what` ("kafka consumer").
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
