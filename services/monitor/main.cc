// signpost-monitor: what flows through Signpost — rates per topic, consumer-group lag, dead
// letters, rejections, SLA alerts, unmet needs — from the topics themselves, read without a
// consumer group, so it is never in a service's way and rebuilds its figures after a restart.
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth/call_authenticator.h"
#include "common/config/address.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/topics.h"
#include "common/metrics/http_endpoint.h"
#include "common/process/service_setup.h"
#include "common/process/shutdown_signal.h"
#include "services/monitor/dashboard_assets.h"
#include "services/monitor/lag_probe.h"
#include "services/monitor/monitor.h"
#include "services/monitor/ops_service.h"
#include "services/monitor/topic_tail.h"

namespace signpost::monitor {
namespace {

constexpr char kService[] = "signpost-monitor";

struct MonitorConfig {
  CommonConfig common;
  int look_back_hours = 24;
  int lag_interval_ms = 2000;
  std::vector<std::string> groups;
  EquityOptions equity;
};

int Run(const MonitorConfig& config) {
  std::vector<WatchedGroup> groups = ServiceGroups();
  for (const std::string& text : config.groups) {
    auto watched = ParseWatchedGroup(text);
    if (!watched.ok()) {
      fprintf(stderr, "%s: %s\n", kService, std::string(watched.status().message()).c_str());
      return 2;
    }
    groups.push_back(*watched);
  }
  if (absl::Status s = PrepareService(kService, config.common); !s.ok()) {
    fprintf(stderr, "%s: %s\n", kService, std::string(s.message()).c_str());
    return 2;
  }
  auto authenticator = auth::CallAuthenticatorFrom(config.common.auth);
  if (!authenticator.ok()) {
    spdlog::critical("{}", std::string(authenticator.status().message()));
    return 2;
  }
  BlockShutdownSignals();
  const std::string& prefix = config.common.topic_prefix;
  auto now = [] { return absl::Now(); };

  Monitor stats(prefix, config.equity, absl::Hours(config.look_back_hours));
  TopicTailOptions tail_options;
  tail_options.bootstrap = config.common.kafka_bootstrap;
  tail_options.look_back = absl::Hours(config.look_back_hours);
  tail_options.properties = config.common.kafka_properties;
  for (const auto& topic : kafka::AllTopics()) {
    tail_options.topics.push_back(kafka::TopicName(topic.topic, prefix));
  }
  TopicTail tail(tail_options, [&stats](const kafka::ConsumedMessage& m) { stats.Observe(m); });
  if (absl::Status s = tail.Start(); !s.ok()) {
    spdlog::critical("reading the topics: {}", s.ToString());
    return 1;
  }

  metrics::Registry registry;
  LagProbe probe(config.common.kafka_bootstrap, config.common.kafka_properties, prefix, groups);
  std::atomic<bool> lag_known{false};
  absl::Notification stop;
  // Referrals no network serves: counted as soon as they are seen, whether or not lag can be read.
  metrics::Counter& unrouted_total = registry.GetCounter(
      "signpost_monitor_unrouted_referrals_total",
      "Referrals from a practice no network lists, put on the regional unrouted queue");
  metrics::Gauge& unrouted_waiting = registry.GetGauge(
      "signpost_monitor_unrouted_referrals_waiting",
      "Unrouted referrals a coordinator has not yet reassigned to a link worker nor closed");
  metrics::Counter& unreachable_total = registry.GetCounter(
      "signpost_monitor_unreachable_rejections_total",
      "Rejected submissions that named no referrer: nobody could be told (follow them up)");
  std::thread lag_thread([&] {
    do {
      {
        const v1::FlowSnapshot flows = stats.Snapshot(now());
        unrouted_total.Increment(std::max(
            0.0, static_cast<double>(flows.unrouted_referrals()) - unrouted_total.Value()));
        unrouted_waiting.Set(static_cast<double>(flows.unrouted_waiting()));
        unreachable_total.Increment(std::max(
            0.0, static_cast<double>(flows.unreachable_rejections()) - unreachable_total.Value()));
      }
      auto lag = probe.Probe();
      if (!lag.ok()) {
        spdlog::warn("consumer-group lag: {}", lag.status().ToString());
        continue;
      }
      absl::Time at = now();
      stats.SetLag(*std::move(lag));
      const v1::FlowSnapshot snapshot = stats.Snapshot(at);  // outlives the loop over it
      for (const auto& group : snapshot.groups()) {
        metrics::Labels labels = {{"group", group.group()}, {"topic", group.topic()}};
        registry
            .GetGauge("signpost_consumer_group_lag", "Messages not yet processed by a group",
                      labels)
            .Set(static_cast<double>(group.total_lag()));
        registry
            .GetGauge("signpost_consumer_group_oldest_waiting_seconds",
                      "How long the oldest message a group has not processed has waited", labels)
            .Set(group.oldest_waiting_seconds());
      }
      lag_known.store(true);
    } while (!stop.WaitForNotificationWithTimeout(absl::Milliseconds(config.lag_interval_ms)));
  });
  // Every way out of Run() from here on, a start that fails included, stops and joins the lag
  // thread first: destroying it joinable would end the process in std::terminate.
  absl::Cleanup join_lag_thread = [&] {
    if (!lag_thread.joinable()) return;
    if (!stop.HasBeenNotified()) stop.Notify();
    lag_thread.join();
  };

  metrics::HttpEndpoint http(registry, [&]() -> absl::Status {
    return lag_known.load() ? absl::OkStatus()
                            : absl::UnavailableError("consumer-group lag not read yet");
  });
  auto json = [](const google::protobuf::Message& message) {
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(message, &out, options);
    return out;
  };
  // The figures, as OpsService gives them: for the ops role (the page itself is no secret).
  auth::CallAuthenticator& callers = **authenticator;
  auto ops_only = [&callers](const std::string& authorization) -> absl::Status {
    absl::StatusOr<auth::Principal> caller = callers.AuthenticateHeader(authorization);
    if (!caller.ok()) return caller.status();
    return auth::RequireRole(*caller, {auth::Role::kOps}, "the monitor's API");
  };
  for (const DashboardAsset& asset : DashboardAssets()) {
    http.AddPage(asset.path, [asset](const metrics::HttpEndpoint::Params&) {
      return metrics::HttpEndpoint::Page{200, asset.content_type, asset.body};
    });
  }
  http.AddPage(
      "/api/flows",
      [&stats, now, json](const metrics::HttpEndpoint::Params&) {
        return metrics::HttpEndpoint::Page{200, "application/json", json(stats.Snapshot(now()))};
      },
      ops_only);
  http.AddPage(
      "/api/equity",
      [&stats, json](const metrics::HttpEndpoint::Params&) {
        return metrics::HttpEndpoint::Page{200, "application/json", json(stats.EquityFunnel())};
      },
      ops_only);
  // ?since=YYYY-MM-DD&until=YYYY-MM-DD&format=csv|json
  http.AddPage(
      "/api/gaps",
      [&stats, now, json](const metrics::HttpEndpoint::Params& params) {
        v1::GapReportRequest request;
        if (auto it = params.find("since"); it != params.end()) request.set_since(it->second);
        if (auto it = params.find("until"); it != params.end()) request.set_until(it->second);
        auto report = stats.GapReport(request, now());
        if (!report.ok()) {
          return metrics::HttpEndpoint::Page{400, "text/plain", report.status().ToString() + "\n"};
        }
        auto format = params.find("format");
        if (format != params.end() && format->second == "csv") {
          return metrics::HttpEndpoint::Page{200, "text/csv", GapReportBook::Csv(*report)};
        }
        return metrics::HttpEndpoint::Page{200, "application/json", json(*report)};
      },
      ops_only);
  auto http_port = StartMetricsEndpoint(http, config.common);
  if (!http_port.ok()) {
    spdlog::critical("{}", http_port.status().ToString());
    return 1;
  }

  OpsService ops(stats, now, **authenticator);
  auto grpc_options = GrpcServerOptionsFrom(config.common);
  if (!grpc_options.ok()) {
    spdlog::critical("{}", grpc_options.status().ToString());
    return 2;
  }
  auto server = GrpcServer::Start(*grpc_options, {&ops});
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return 1;
  }
  spdlog::info("{} ready: gRPC {}, dashboard and API on port {}", kService, (*server)->address(),
               *http_port);

  int signal = WaitForShutdownSignal();
  spdlog::info("signal {}: stopping", signal);
  (*server)->Shutdown(absl::Seconds(2));
  std::move(join_lag_thread).Invoke();
  tail.Stop();
  http.Stop();
  return 0;
}

}  // namespace
}  // namespace signpost::monitor

int main(int argc, char** argv) {
  signpost::monitor::MonitorConfig config;
  CLI::App app("signpost-monitor: rates, lag, dead letters and alerts of the Signpost flows");
  signpost::AddCommonOptions(app, config.common);
  app.add_option("--look-back-hours", config.look_back_hours,
                 "How far back the figures reach; read again at every start")
      ->envname("SIGNPOST_MONITOR_LOOK_BACK_HOURS")
      ->check(CLI::Range(1, 24 * 400))
      ->capture_default_str();
  app.add_option("--lag-interval-ms", config.lag_interval_ms, "How often lag is measured")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--group", config.groups,
                 "Another consumer group to watch: GROUP=TOPIC[+TOPIC...] (names without the "
                 "prefix; repeatable)");
  app.add_option("--core20-population-share", config.equity.core20_share_of_population,
                 "Share of the served population living in IMD deciles 1-2")
      ->envname("SIGNPOST_CORE20_POPULATION_SHARE")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--suppress-below", config.equity.suppress_below,
                 "Withhold equity figures of groups with fewer referrals than this")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return signpost::monitor::Run(config);
}
