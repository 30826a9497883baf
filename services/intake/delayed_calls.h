#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace signpost::intake {

// Runs each call at (or soon after) its time on the wall clock, one at a time, on a thread of its
// own: for work that must wait a moment without holding a worker meanwhile (a submission whose
// claim another attempt holds is looked at again a little later). On Stop() (or destruction)
// what is still waiting runs at once with `stopping` true, so that every waiter is answered.
class DelayedCalls {
 public:
  using Call = std::function<void(bool stopping)>;
  // Names one call, to cancel it.
  using Handle = std::pair<absl::Time, uint64_t>;

  DelayedCalls();
  ~DelayedCalls();
  DelayedCalls(const DelayedCalls&) = delete;
  DelayedCalls& operator=(const DelayedCalls&) = delete;

  // Once stopping, `call(true)` runs at once on the caller's thread.
  Handle At(absl::Time when, Call call);
  // The call will not run (nor be kept) if it has not started yet; a no-op otherwise.
  void Cancel(const Handle& handle);
  // Returns once every call has run. Idempotent.
  void Stop();

 private:
  void Run();

  absl::Mutex mu_;
  std::map<Handle, Call> calls_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;  // a call was added: the next one may be sooner
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost::intake
