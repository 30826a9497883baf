#pragma once

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace signpost::testing {

// Polls `condition` until it holds or `timeout` passes; the condition's last answer.
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(60)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return condition();
}

}  // namespace signpost::testing
