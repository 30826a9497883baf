// signpostctl flows | gaps
#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "services/monitor/gap_report.h"
#include "signpost/v1/ops_service.grpc.pb.h"
#include "tools/ctl/commands.h"

namespace signpost::ctl {
namespace {

void PrintFlows(const v1::FlowSnapshot& s) {
  std::cout << absl::StrFormat("%-34s %10s %12s %10s\n", "TOPIC", "MSG/S", "BYTES/S", "TOTAL");
  for (const auto& t : s.topics()) {
    std::cout << absl::StrFormat("%-34s %10.2f %12.0f %10d\n", t.topic(), t.messages_per_second(),
                                 t.bytes_per_second(), t.messages_total());
  }
  std::cout << absl::StrFormat("\n%-30s %-30s %8s %10s\n", "GROUP", "TOPIC", "LAG", "WAITING S");
  for (const auto& g : s.groups()) {
    std::cout << absl::StrFormat("%-30s %-30s %8d %10.1f\n", g.group(), g.topic(), g.total_lag(),
                                 g.oldest_waiting_seconds());
  }
  int64_t dead = 0;
  for (const auto& d : s.dead_letters()) dead += d.count();
  std::cout << absl::StrFormat("\ndead letters %d   SLA breached %d   at risk %d\n", dead,
                               s.sla_breaches(), s.sla_at_risk());
  for (const auto& d : s.latest_dead_letters()) {
    std::cout << "  " << d.source_topic() << " " << d.source_partition() << "@" << d.source_offset()
              << " (" << d.group() << "): " << d.reason() << "\n";
  }
  if (!s.stages().empty()) {
    std::cout << absl::StrFormat("\n%-28s %8s %10s %10s\n", "STAGES", "N", "P50 S", "P99 S");
    for (const auto& st : s.stages()) {
      std::cout << absl::StrFormat("%-28s %8d %10.2f %10.2f\n",
                                   st.from_stage() + " > " + st.to_stage(), st.count(),
                                   st.p50_seconds(), st.p99_seconds());
    }
  }
}

}  // namespace

void AddOpsCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  auto once = std::make_shared<bool>(false);
  auto interval = std::make_shared<int>(2);
  CLI::App* flows = app.add_subcommand(
      "flows", "A live view of the message flows: rates, lag, dead letters, SLA alerts");
  flows->add_flag("--once", *once, "Print one snapshot and exit");
  flows->add_option("--interval", *interval, "Seconds between refreshes")
      ->check(CLI::Range(1, 60))
      ->capture_default_str();
  flows->callback([&ctx, &exit_code, once, interval] {
    auto stub = v1::OpsService::NewStub(ctx.Channel(ctx.monitor, "monitor"));
    if (*once) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      ctx.Authorise(context, {auth::Role::kOps, "signpostctl", {}, ""});
      v1::FlowSnapshot snapshot;
      grpc::Status status =
          stub->GetFlowSnapshot(&context, v1::GetFlowSnapshotRequest(), &snapshot);
      if (!status.ok()) {
        exit_code = Report(status, "flows");
        return;
      }
      if (ctx.json) {
        PrintJson(snapshot);
      } else {
        PrintFlows(snapshot);
      }
      return;
    }
    grpc::ClientContext context;
    ctx.Authorise(context, {auth::Role::kOps, "signpostctl", {}, ""});
    v1::WatchFlowsRequest request;
    request.set_interval_seconds(*interval);
    auto reader = stub->WatchFlows(&context, request);
    v1::FlowSnapshot snapshot;
    while (reader->Read(&snapshot)) {
      if (ctx.json) {
        PrintJson(snapshot);
        continue;
      }
      std::cout << "\033[H\033[2J";  // like top: redraw in place
      PrintFlows(snapshot);
      std::cout << std::flush;
    }
    exit_code = Report(reader->Finish(), "flows");
  });

  auto request = std::make_shared<v1::GapReportRequest>();
  auto csv = std::make_shared<bool>(false);
  CLI::App* gaps = app.add_subcommand(
      "gaps", "Unmet needs by postcode district and need category (for commissioners)");
  gaps->add_option_function<std::string>(
      "--since", [request](const std::string& v) { request->set_since(v); }, "YYYY-MM-DD");
  gaps->add_option_function<std::string>(
      "--until", [request](const std::string& v) { request->set_until(v); }, "YYYY-MM-DD");
  gaps->add_flag("--csv", *csv, "CSV for a spreadsheet");
  gaps->callback([&ctx, &exit_code, request, csv] {
    auto stub = v1::OpsService::NewStub(ctx.Channel(ctx.monitor, "monitor"));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.Authorise(context, {auth::Role::kOps, "signpostctl", {}, ""});
    v1::GapReport report;
    grpc::Status status = stub->GetGapReport(&context, *request, &report);
    if (!status.ok()) {
      exit_code = Report(status, "gaps");
      return;
    }
    if (*csv) {
      std::cout << monitor::GapReportBook::Csv(report);
    } else {
      PrintJson(report);
    }
  });
}

}  // namespace signpost::ctl
