#include "services/monitor/monitor_api.h"

#include <string>

#include <google/protobuf/util/json_util.h>

#include "services/monitor/dashboard_assets.h"
#include "services/monitor/provision_csv.h"

namespace signpost::monitor {
namespace {

using Page = metrics::HttpEndpoint::Page;
using Params = metrics::HttpEndpoint::Params;

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

void AddMonitorPages(ServiceHost& host, const Monitor& stats, std::function<absl::Time()> now,
                     const auth::CallAuthenticator& callers) {
  for (const DashboardAsset& asset : DashboardAssets()) {
    host.AddPage(asset.path, [asset](const Params&) {
      return Page{200, asset.content_type, asset.body};
    });
  }
  // The figures, as OpsService gives them: for the ops role (the page itself is no secret).
  auto ops_only = [&callers](const std::string& authorization) -> absl::Status {
    absl::StatusOr<auth::Principal> caller = callers.AuthenticateHeader(authorization);
    if (!caller.ok()) return caller.status();
    return auth::RequireRole(*caller, {auth::Role::kOps}, "the monitor's API");
  };
  host.AddPage(
      "/api/flows",
      [&stats, now](const Params&) {
        return Page{200, "application/json", Json(stats.Snapshot(now()))};
      },
      ops_only);
  host.AddPage(
      "/api/equity",
      [&stats](const Params&) {
        return Page{200, "application/json", Json(stats.EquityFunnel())};
      },
      ops_only);
  host.AddPage(
      "/api/provision",
      [&stats](const Params& params) {
        v1::Provision provision = stats.Provision();
        auto format = params.find("format");
        if (format != params.end() && format->second == "csv") {
          return Page{200, "text/csv", ProvisionCsv(provision)};
        }
        return Page{200, "application/json", Json(provision)};
      },
      ops_only);
  host.AddPage(
      "/api/gaps",
      [&stats, now](const Params& params) {
        v1::GapReportRequest request;
        if (auto it = params.find("since"); it != params.end()) request.set_since(it->second);
        if (auto it = params.find("until"); it != params.end()) request.set_until(it->second);
        auto report = stats.GapReport(request, now());
        if (!report.ok()) return Page{400, "text/plain", report.status().ToString() + "\n"};
        auto format = params.find("format");
        if (format != params.end() && format->second == "csv") {
          return Page{200, "text/csv", GapReportBook::Csv(*report)};
        }
        return Page{200, "application/json", Json(*report)};
      },
      ops_only);
}

}  // namespace signpost::monitor
