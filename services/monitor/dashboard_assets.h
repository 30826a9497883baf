#pragma once

#include <span>

namespace signpost::monitor {

// The dashboard's files (services/monitor/dashboard/), built into the binary so the monitor
// serves them with nothing to install or find at run time.
struct DashboardAsset {
  const char* path;  // "/" for index.html
  const char* content_type;
  const char* body;
};

std::span<const DashboardAsset> DashboardAssets();

}  // namespace signpost::monitor
