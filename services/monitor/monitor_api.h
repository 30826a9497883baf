#pragma once

#include <functional>

#include "absl/time/time.h"
#include "common/auth/call_authenticator.h"
#include "common/service/service_host.h"
#include "services/monitor/monitor.h"

namespace signpost::monitor {

// The monitor's pages on its HTTP port: the dashboard (no secret) and its JSON API for the ops
// role, the same figures OpsService gives: /api/flows, /api/equity and
// /api/gaps?since=YYYY-MM-DD&until=YYYY-MM-DD&format=csv|json.
void AddMonitorPages(ServiceHost& host, const Monitor& stats, std::function<absl::Time()> now,
                     const auth::CallAuthenticator& callers);

}  // namespace signpost::monitor
