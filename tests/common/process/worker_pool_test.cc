#include "common/process/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"

namespace signpost {
namespace {

TEST(WorkerPoolTest, RunsEverythingScheduledBeforeItIsDestroyed) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&done] { done.fetch_add(1); });
  }
  EXPECT_EQ(done.load(), 1000);
}

TEST(WorkerPoolTest, ABlockedTaskDoesNotHoldUpTheOthers) {
  WorkerPool pool(2);
  absl::Notification release, other_ran;
  pool.Schedule([&release] { release.WaitForNotification(); });
  pool.Schedule([&other_ran] { other_ran.Notify(); });
  EXPECT_TRUE(other_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

}  // namespace
}  // namespace signpost
