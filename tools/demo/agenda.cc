#include "tools/demo/agenda.h"

namespace signpost::demo {

Agenda::Agenda(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

Agenda::~Agenda() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void Agenda::At(absl::Time when, std::function<void()> what) {
  absl::MutexLock lock(&mu_);
  due_.emplace(when, std::move(what));
}

void Agenda::Work() {
  while (true) {
    std::function<void()> next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || (!due_.empty() && due_.begin()->first <= absl::Now());
      };
      // Wake at least every 50 ms: something sooner may have been added.
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
      if (stopping_) return;
      if (due_.empty() || due_.begin()->first > absl::Now()) continue;
      next = std::move(due_.begin()->second);
      due_.erase(due_.begin());
    }
    next();
  }
}

}  // namespace signpost::demo
