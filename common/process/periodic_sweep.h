#pragma once

#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace signpost {

// Runs `sweep` at Start and then every `interval` on a thread of its own, until Stop: the
// retention sweeps that remove from Redis what is past its time. `sweep` answers whether more is
// due at once (then it runs again straight away), or an error (logged; tried at the next
// interval).
class PeriodicSweep {
 public:
  using Sweep = std::function<absl::StatusOr<bool>()>;

  PeriodicSweep(std::string name, absl::Duration interval, Sweep sweep);
  ~PeriodicSweep();

  void Start();
  void Stop();

 private:
  void Run();
  void SweepDue();
  bool Stopping();

  const std::string name_;
  const absl::Duration interval_;
  Sweep sweep_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost
