#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/status.h"
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

// A client handle's event callback: its statistics counted (as ClientStatistics) when a registry
// is given, and librdkafka's errors and log lines (which it sends here instead of to stderr once a
// callback is set) logged as `what` ("kafka consumer") either way. It must outlive the handle.
class ClientEvents final : public RdKafka::EventCb {
 public:
  // `registry` may be null: nothing is counted. `role` as for ClientStatistics.
  ClientEvents(metrics::Registry* registry, const std::string& role, std::string what);

  // The handle's statistics.interval.ms: 0 (no reports) when nothing is counted.
  std::string StatisticsIntervalMs() const;
  // Sets this as `conf`'s event_cb.
  absl::Status SetOn(RdKafka::Conf& conf);

  void event_cb(RdKafka::Event& event) override;

 private:
  std::optional<ClientStatistics> statistics_;
  std::string what_;
};

}  // namespace signpost::kafka
