#pragma once

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/intake/redis_status_store.h"

namespace signpost::intake {

// Every `interval`, removes the status views (and then the tombstones) that are due, in batches,
// so Redis holds live work, not history. Several instances may sweep at once: each batch is one
// script, and what it handles is no longer due. A failed sweep is logged and tried next time.
class StatusExpirySweeper {
 public:
  StatusExpirySweeper(RedisStatusStore& store, absl::Duration interval);
  ~StatusExpirySweeper();

  void Start();
  void Stop();

 private:
  void Run();
  void SweepDue();
  bool Stopping();

  RedisStatusStore& store_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost::intake
