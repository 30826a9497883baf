#include "services/intake/status_expiry_sweeper.h"

#include <spdlog/spdlog.h>

namespace signpost::intake {
namespace {
// Ids per script: short enough that Redis is not held up (a few ms), long enough to keep up with
// a day's expiries in a few sweeps.
constexpr int kBatch = 500;
}  // namespace

StatusExpirySweeper::StatusExpirySweeper(RedisStatusStore& store, absl::Duration interval)
    : store_(store), interval_(interval) {}

StatusExpirySweeper::~StatusExpirySweeper() { Stop(); }

void StatusExpirySweeper::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void StatusExpirySweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool StatusExpirySweeper::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void StatusExpirySweeper::SweepDue() {
  while (!Stopping()) {
    auto swept = store_.ExpireDue(kBatch);
    if (!swept.ok()) {
      spdlog::warn("status expiry: {} (tried again in {})", swept.status().ToString(),
                   absl::FormatDuration(interval_));
      return;
    }
    if (*swept < kBatch) return;
  }
}

void StatusExpirySweeper::Run() {
  while (true) {
    SweepDue();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
  }
}

}  // namespace signpost::intake
