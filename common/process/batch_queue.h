#pragma once

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace signpost {

// Items handed to one thread of their own, which takes them in batches: everything queued while
// it handled the batch before (up to `max_batch`) comes next, together. For work whose cost is a
// round trip however many items it carries (a pipeline to Redis): under load each round trip
// carries every item that arrived meanwhile, and with none waiting an item goes at once.
template <typename T>
class BatchQueue {
 public:
  using Handler = std::function<void(std::vector<T>& batch)>;
  enum class Pushed { kQueued, kFull, kStopping };

  // At most `max_queued` items wait (beyond them Push refuses: the caller answers at capacity).
  BatchQueue(size_t max_batch, Handler handle,
             size_t max_queued = std::numeric_limits<size_t>::max())
      : max_batch_(std::max<size_t>(max_batch, 1)),
        max_queued_(max_queued),
        handle_(std::move(handle)) {
    thread_ = std::thread([this] { Run(); });
  }
  // Handles everything already queued, then joins the thread.
  ~BatchQueue() { Stop(); }
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Queues `item`, unless `max_queued` wait already or it is stopping: then `item` is left as it
  // was, for the caller to answer.
  [[nodiscard]] Pushed Push(T& item) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return Pushed::kStopping;
    if (queue_.size() >= max_queued_) return Pushed::kFull;
    queue_.push_back(std::move(item));
    return Pushed::kQueued;
  }

  // Handles everything already queued, then joins; Push refuses from now on.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::vector<T> batch;
    while (true) {
      batch.clear();
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](BatchQueue* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->stopping_ || !self->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // stopping, and everything is handled
        if (queue_.size() <= max_batch_) {
          batch.swap(queue_);
        } else {
          batch.assign(std::make_move_iterator(queue_.begin()),
                       std::make_move_iterator(queue_.begin() + max_batch_));
          queue_.erase(queue_.begin(), queue_.begin() + max_batch_);
        }
      }
      handle_(batch);
    }
  }

  const size_t max_batch_;
  const size_t max_queued_;
  Handler handle_;
  absl::Mutex mu_;
  std::vector<T> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost
