#include "services/intake/delayed_calls.h"

#include "absl/time/clock.h"

namespace signpost::intake {

DelayedCalls::DelayedCalls() : thread_([this] { Run(); }) {}

DelayedCalls::~DelayedCalls() { Stop(); }

void DelayedCalls::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

DelayedCalls::Handle DelayedCalls::At(absl::Time when, Call call) {
  Handle handle;
  {
    absl::MutexLock lock(&mu_);
    handle = {when, next_id_++};
    if (!stopping_) {
      calls_.emplace(handle, std::move(call));
      changed_ = true;
      return handle;
    }
  }
  call(true);
  return handle;
}

void DelayedCalls::Cancel(const Handle& handle) {
  absl::MutexLock lock(&mu_);
  calls_.erase(handle);
}

void DelayedCalls::Run() {
  mu_.Lock();
  while (!stopping_) {
    absl::Time next = calls_.empty() ? absl::InfiniteFuture() : calls_.begin()->first.first;
    if (next <= absl::Now()) {
      Call call = std::move(calls_.begin()->second);
      calls_.erase(calls_.begin());
      mu_.Unlock();
      call(false);
      mu_.Lock();
      continue;
    }
    changed_ = false;
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](DelayedCalls* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                                return self->changed_ || self->stopping_;
                              },
                              this),
                          next);
  }
  while (!calls_.empty()) {
    Call call = std::move(calls_.begin()->second);
    calls_.erase(calls_.begin());
    mu_.Unlock();
    call(true);
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace signpost::intake
