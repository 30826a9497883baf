#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/config/common_config.h"
#include "services/monitor/equity_funnel.h"

namespace signpost::monitor {

// signpost-monitor's settings: the common ones and its own flags.
struct MonitorConfig {
  CommonConfig common;
  int look_back_hours = 24;
  // How far back the matched and case events are read for the open cases in each link worker's
  // caseload (the provision view's caseload room): as long as a case may stay open.
  int caseload_look_back_days = 120;
  int lag_interval_ms = 2000;
  std::vector<std::string> groups;  // GROUP=TOPIC[+TOPIC...], beside the services' own
  EquityOptions equity;
  std::string postcodes;  // the postcode file that places resources by deprivation
};

// Registers the common flags and the monitor's own on `app`.
void AddMonitorOptions(CLI::App& app, MonitorConfig& config);

}  // namespace signpost::monitor
