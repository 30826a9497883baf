#pragma once

#include <deque>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace signpost {

// A fixed set of threads running queued work in order of arrival. gRPC callback handlers must
// not block; work that waits on Redis or on the broker is handed to a pool like this one.
class WorkerPool {
 public:
  // At most `max_queued` pieces of work wait for a thread; TrySchedule refuses more.
  explicit WorkerPool(int threads, size_t max_queued = std::numeric_limits<size_t>::max());
  // Runs everything already scheduled, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> work);
  // Queues `work` unless `max_queued` are waiting already: then false, and `work` is dropped, so
  // the caller can refuse at once (RESOURCE_EXHAUSTED) instead of making it wait without bound.
  [[nodiscard]] bool TrySchedule(std::function<void()> work);

 private:
  void Work();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace signpost
