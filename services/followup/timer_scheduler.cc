#include "services/followup/timer_scheduler.h"

#include <spdlog/spdlog.h>

namespace signpost::followup {
namespace {

constexpr absl::Duration kLease = absl::Seconds(30);
constexpr int kBatch = 200;

}  // namespace

TimerScheduler::TimerScheduler(CaseStore& store, const CaseWorkflow& workflow,
                               std::function<absl::Time()> clock, std::function<void()> committed,
                               metrics::Registry& metrics)
    : store_(store),
      workflow_(workflow),
      clock_(std::move(clock)),
      committed_(std::move(committed)),
      fired_(metrics.GetCounter("signpost_followup_timers_fired_total",
                                "Timers that fired and created a task")),
      dropped_(metrics.GetCounter("signpost_followup_timers_dropped_total",
                                  "Due timers that no longer mattered (case moved on)")) {}

TimerScheduler::~TimerScheduler() { Stop(); }

absl::Status TimerScheduler::Fire(const v1::FollowUpTimer& timer, absl::Time now, bool& fired) {
  fired = false;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto loaded = store_.Load(timer.referral_id());
    if (!loaded.ok()) return loaded.status();
    std::optional<CaseChange> change;
    if (loaded->has_value()) change = workflow_.Fire(**loaded, timer, now);
    if (!change) {
      dropped_.Increment();
      return store_.DropTimer(timer.id());
    }
    absl::Status s = store_.Commit(*change);
    if (s.ok()) {
      fired = true;
      fired_.Increment();
      if (committed_) committed_();
      return s;
    }
    if (s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();  // fired elsewhere
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return absl::AbortedError("case kept changing; the timer stays leased and comes back");
}

absl::StatusOr<int> TimerScheduler::RunOnce() {
  int fired_count = 0;
  for (;;) {
    absl::Time now = clock_();
    auto due = store_.ClaimDueTimers(now, kLease, kBatch);
    if (!due.ok()) return due.status();
    for (const auto& timer : *due) {
      bool fired = false;
      if (absl::Status s = Fire(timer, now, fired); !s.ok()) return s;
      if (fired) ++fired_count;
    }
    if (due->size() < kBatch) return fired_count;
  }
}

void TimerScheduler::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      auto fired = RunOnce();
      if (!fired.ok()) spdlog::warn("timers: {}", fired.status().ToString());
    }
  });
}

void TimerScheduler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace signpost::followup
