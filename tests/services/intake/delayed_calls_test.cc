#include "services/intake/delayed_calls.h"

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace signpost::intake {
namespace {

// A call cancelled before its time never runs, not even when the calls are stopped, and is not
// kept; the others still run.
TEST(DelayedCallsTest, ACancelledCallNeverRuns) {
  DelayedCalls calls;
  bool cancelled_ran = false;
  auto handle = calls.At(absl::Now() + absl::Hours(1), [&](bool) { cancelled_ran = true; });
  absl::Notification soon_ran;
  calls.At(absl::Now() + absl::Milliseconds(10), [&](bool stopping) {
    EXPECT_FALSE(stopping);
    soon_ran.Notify();
  });
  calls.Cancel(handle);
  ASSERT_TRUE(soon_ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  bool later_stopped = false;
  calls.At(absl::Now() + absl::Hours(1), [&](bool stopping) { later_stopped = stopping; });
  calls.Stop();
  EXPECT_FALSE(cancelled_ran);
  EXPECT_TRUE(later_stopped);
  calls.Cancel(handle);  // already gone: nothing happens
}

}  // namespace
}  // namespace signpost::intake
