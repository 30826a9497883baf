#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace signpost {

// A fixed set of threads running queued work in order of arrival. gRPC callback handlers must
// not block; work that waits on Redis or on the broker is handed to a pool like this one.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Runs everything already scheduled, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> work);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace signpost
