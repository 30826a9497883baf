#pragma once

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/metrics/registry.h"
#include "services/followup/case_store.h"
#include "services/followup/case_workflow.h"

namespace signpost::followup {

// Fires due timers: claims them (leased, so two instances never fire one twice and a crashed
// claimer's timers come back), lets the workflow say what follows, commits. Time comes from the
// injected clock, so tests move the clock instead of sleeping.
class TimerScheduler {
 public:
  TimerScheduler(CaseStore& store, const CaseWorkflow& workflow, std::function<absl::Time()> clock,
                 std::function<void()> committed, metrics::Registry& metrics);
  ~TimerScheduler();

  // One pass; how many timers fired (created tasks and events).
  absl::StatusOr<int> RunOnce();

  void Start(absl::Duration interval);
  void Stop();

 private:
  absl::Status Fire(const v1::FollowUpTimer& timer, absl::Time now, bool& fired);

  CaseStore& store_;
  const CaseWorkflow& workflow_;
  std::function<absl::Time()> clock_;
  std::function<void()> committed_;
  metrics::Counter& fired_;
  metrics::Counter& dropped_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace signpost::followup
