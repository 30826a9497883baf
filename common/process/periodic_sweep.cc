#include "common/process/periodic_sweep.h"

#include <spdlog/spdlog.h>

namespace signpost {

PeriodicSweep::PeriodicSweep(std::string name, absl::Duration interval, Sweep sweep)
    : name_(std::move(name)), interval_(interval), sweep_(std::move(sweep)) {}

PeriodicSweep::~PeriodicSweep() { Stop(); }

void PeriodicSweep::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void PeriodicSweep::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool PeriodicSweep::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void PeriodicSweep::SweepDue() {
  while (!Stopping()) {
    absl::StatusOr<bool> more = sweep_();
    if (!more.ok()) {
      spdlog::warn("{}: {} (tried again in {})", name_, more.status().ToString(),
                   absl::FormatDuration(interval_));
      return;
    }
    if (!*more) return;
  }
}

void PeriodicSweep::Run() {
  while (true) {
    SweepDue();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
  }
}

}  // namespace signpost
