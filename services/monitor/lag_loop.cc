#include "services/monitor/lag_loop.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace signpost::monitor {

LagLoop::LagLoop(Monitor& stats, LagProbe& probe, metrics::Registry& registry,
                 absl::Duration interval, std::function<absl::Time()> now)
    : stats_(stats),
      probe_(probe),
      registry_(registry),
      interval_(interval),
      now_(std::move(now)),
      unrouted_total_(registry.GetCounter(
          "signpost_monitor_unrouted_referrals_total",
          "Referrals from a practice no network lists, put on the regional unrouted queue")),
      unrouted_waiting_(registry.GetGauge(
          "signpost_monitor_unrouted_referrals_waiting",
          "Unrouted referrals a coordinator has not yet reassigned to a link worker nor closed")),
      unreachable_total_(registry.GetCounter(
          "signpost_monitor_unreachable_rejections_total",
          "Rejected submissions that named no referrer: nobody could be told (follow them up)")) {}

LagLoop::~LagLoop() { Stop(); }

void LagLoop::Start() {
  thread_ = std::thread([this] {
    do {
      RunOnce();
    } while (!stop_.WaitForNotificationWithTimeout(interval_));
  });
}

void LagLoop::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

absl::Status LagLoop::Readiness() const {
  return lag_known_.load() ? absl::OkStatus()
                           : absl::UnavailableError("consumer-group lag not read yet");
}

void LagLoop::RunOnce() {
  {
    const v1::FlowSnapshot flows = stats_.Snapshot(now_());
    unrouted_total_.Increment(
        std::max(0.0, static_cast<double>(flows.unrouted_referrals()) - unrouted_total_.Value()));
    unrouted_waiting_.Set(static_cast<double>(flows.unrouted_waiting()));
    unreachable_total_.Increment(std::max(
        0.0, static_cast<double>(flows.unreachable_rejections()) - unreachable_total_.Value()));
  }
  auto lag = probe_.Probe();
  if (!lag.ok()) {
    spdlog::warn("consumer-group lag: {}", lag.status().ToString());
    return;
  }
  absl::Time at = now_();
  stats_.SetLag(*std::move(lag));
  const v1::FlowSnapshot snapshot = stats_.Snapshot(at);  // outlives the loop over it
  for (const auto& group : snapshot.groups()) {
    metrics::Labels labels = {{"group", group.group()}, {"topic", group.topic()}};
    registry_
        .GetGauge("signpost_consumer_group_lag", "Messages not yet processed by a group", labels)
        .Set(static_cast<double>(group.total_lag()));
    registry_
        .GetGauge("signpost_consumer_group_oldest_waiting_seconds",
                  "How long the oldest message a group has not processed has waited", labels)
        .Set(group.oldest_waiting_seconds());
  }
  lag_known_.store(true);
}

}  // namespace signpost::monitor
