#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/metrics/registry.h"
#include "services/monitor/lag_probe.h"
#include "services/monitor/monitor.h"

namespace signpost::monitor {

// The monitor's measuring loop, on a thread of its own: every `interval` it publishes the figures
// counted from the topics (unrouted referrals, unreachable rejections) as metrics, then reads
// consumer-group lag and publishes it. Lag that cannot be read is logged and tried again.
class LagLoop {
 public:
  LagLoop(Monitor& stats, LagProbe& probe, metrics::Registry& registry, absl::Duration interval,
          std::function<absl::Time()> now);
  ~LagLoop();
  LagLoop(const LagLoop&) = delete;
  LagLoop& operator=(const LagLoop&) = delete;

  void Start();
  // Stops and joins the thread; returns at once when it never started.
  void Stop();
  // Ready once lag has been read: UNAVAILABLE before.
  absl::Status Readiness() const;

 private:
  void RunOnce();

  Monitor& stats_;
  LagProbe& probe_;
  metrics::Registry& registry_;
  const absl::Duration interval_;
  const std::function<absl::Time()> now_;
  // Referrals no network serves: counted as soon as they are seen, whether or not lag can be read.
  metrics::Counter& unrouted_total_;
  metrics::Gauge& unrouted_waiting_;
  metrics::Counter& unreachable_total_;
  std::atomic<bool> lag_known_{false};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace signpost::monitor
