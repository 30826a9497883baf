#pragma once

#include <functional>
#include <string>

#include "services/monitor/equity_funnel.h"
#include "services/monitor/flow_stats.h"
#include "services/monitor/gap_report.h"
#include "services/monitor/provision.h"
#include "services/monitor/stage_latencies.h"

namespace signpost::monitor {

// Everything the monitor keeps, fed one message at a time (each parsed once). No I/O.
class Monitor {
 public:
  // `look_back`: how far back the monitor reads, and so how far back a referral of the same
  // person makes a new one a repeat. What is older counts for nothing but the provision view:
  // the directory (compacted, so read whole: current however old) and the matched and case
  // events the topics' reader reads further back, for whose caseload each open case is in.
  explicit Monitor(
      std::string topic_prefix, EquityOptions equity = {},
      absl::Duration look_back = absl::Hours(24),
      std::function<absl::Time()> clock = [] { return absl::Now(); });

  void Observe(const kafka::ConsumedMessage& message);
  void SetLag(std::vector<v1::GroupLag> lag) { flows_.SetLag(std::move(lag)); }

  v1::FlowSnapshot Snapshot(absl::Time now) const;
  absl::StatusOr<v1::GapReport> GapReport(const v1::GapReportRequest& request,
                                          absl::Time now) const;
  v1::EquityFunnel EquityFunnel() const { return equity_.Funnel(); }
  v1::Provision Provision() const { return provision_.Provision(clock_()); }
  void SetPostcodes(const std::vector<geo::PostcodeRow>& rows) { provision_.SetPostcodes(rows); }

 private:
  std::string topic_prefix_;
  absl::Duration look_back_;
  std::function<absl::Time()> clock_;
  // The look-back from the start: what the topics' reader was asked for. Fixed, so that a message
  // at its edge read a little later still counts (the flows and books age their own figures).
  absl::Time counted_from_;
  FlowStats flows_;
  StageLatencies stages_;
  GapReportBook gaps_;
  EquityFunnelBook equity_;
  ProvisionBook provision_;
};

}  // namespace signpost::monitor
