// signpost-monitor: what flows through Signpost — rates per topic, consumer-group lag, dead
// letters, rejections, SLA alerts, unmet needs — from the topics themselves, read without a
// consumer group, so it is never in a service's way and rebuilds its figures after a restart.
#include "common/kafka/topics.h"
#include "common/service/service_host.h"
#include "common/service/service_main.h"
#include "services/monitor/lag_loop.h"
#include "services/monitor/monitor_api.h"
#include "services/monitor/monitor_options.h"
#include "services/monitor/ops_service.h"
#include "services/monitor/postcode_file.h"
#include "services/monitor/topic_tail.h"

namespace signpost::monitor {

absl::Status Wire(ServiceHost& host, const MonitorConfig& config) {
  std::vector<WatchedGroup> groups = ServiceGroups();
  for (const std::string& text : config.groups) {
    auto watched = ParseWatchedGroup(text);
    if (!watched.ok()) return ConfigurationError(watched.status());
    groups.push_back(*watched);
  }
  auto authenticator = host.Authenticator();
  if (!authenticator.ok()) return authenticator.status();
  const CommonConfig& common = config.common;
  std::function<absl::Time()> now = [] { return absl::Now(); };
  auto& stats =
      host.Make<Monitor>(common.topic_prefix, config.equity, absl::Hours(config.look_back_hours));
  if (!config.postcodes.empty()) {
    auto postcodes = ReadPostcodeFile(config.postcodes);
    if (!postcodes.ok()) return ConfigurationError(postcodes.status());
    stats.SetPostcodes(*postcodes);
  }
  TopicTailOptions tail_options{.bootstrap = common.kafka_bootstrap,
                                .look_back = absl::Hours(config.look_back_hours),
                                .properties = common.kafka_properties,
                                .metrics = &host.registry()};
  for (const auto& topic : kafka::AllTopics()) {
    tail_options.topics.push_back(kafka::TopicName(topic.topic, common.topic_prefix));
    if (topic.cleanup_policy == "compact") {
      tail_options.from_beginning.insert(tail_options.topics.back());
    }
    if (topic.topic == kafka::Topic::kReferralMatched ||
        topic.topic == kafka::Topic::kFollowupEvents) {
      tail_options.longer_look_back[tail_options.topics.back()] =
          absl::Hours(24 * config.caseload_look_back_days);
    }
  }
  auto& tail = host.Make<TopicTail>(
      tail_options, [&stats](const kafka::ConsumedMessage& m) { stats.Observe(m); });
  host.AddComponent("reading the topics", tail);
  auto& probe = host.Make<LagProbe>(common.kafka_bootstrap, common.kafka_properties,
                                    common.topic_prefix, groups);
  auto& lag = host.Make<LagLoop>(stats, probe, host.registry(),
                                 absl::Milliseconds(config.lag_interval_ms), now);
  host.AddComponent("lag loop", lag);
  host.AddReadinessCheck([&lag] { return lag.Readiness(); });
  AddMonitorPages(host, stats, now, **authenticator);
  host.AddGrpcService(&host.Make<OpsService>(stats, now, **authenticator));
  return absl::OkStatus();
}

}  // namespace signpost::monitor

int main(int argc, char** argv) {
  return signpost::ServiceMain(argc, argv, "signpost-monitor",
                               "rates, lag, dead letters and alerts of the Signpost flows",
                               signpost::monitor::AddMonitorOptions, signpost::monitor::Wire);
}
