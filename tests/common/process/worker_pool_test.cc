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

TEST(WorkerPoolTest, WorkBeyondTheQueueIsRefusedNotQueued) {
  WorkerPool pool(1, /*max_queued=*/2);
  absl::Notification busy, release;
  std::atomic<int> done{0};
  ASSERT_TRUE(pool.TrySchedule([&] {
    busy.Notify();
    release.WaitForNotification();
  }));
  busy.WaitForNotification();  // the one thread is taken; what follows waits in the queue
  EXPECT_TRUE(pool.TrySchedule([&done] { done.fetch_add(1); }));
  EXPECT_TRUE(pool.TrySchedule([&done] { done.fetch_add(1); }));
  EXPECT_FALSE(pool.TrySchedule([&done] { done.fetch_add(100); }));
  release.Notify();
  absl::Notification drained;
  while (!pool.TrySchedule([&drained] { drained.Notify(); })) absl::SleepFor(absl::Milliseconds(1));
  drained.WaitForNotification();
  EXPECT_EQ(done.load(), 2);
}

}  // namespace
}  // namespace signpost
