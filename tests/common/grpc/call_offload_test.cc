#include "common/grpc/call_offload.h"

#include <gtest/gtest.h>

#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace signpost {
namespace {

// Holds the pool's only worker until released, so what is scheduled next waits in the queue.
class BusyWorker {
 public:
  explicit BusyWorker(const CallOffload& offload) {
    offload.Start(
        absl::InfiniteFuture(),
        [this] {
          started_.Notify();
          release_.WaitForNotification();
        },
        [](const absl::Status&) {});
    started_.WaitForNotification();
  }
  ~BusyWorker() { Release(); }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  absl::Notification started_;
  absl::Notification release_;
};

// What happened to one call: worked, or refused with a status.
struct Outcome {
  absl::Mutex mu;
  bool worked = false;
  std::optional<absl::Status> refused;
  absl::Notification done;
};

void StartCall(const CallOffload& offload, absl::Time deadline, Outcome& outcome) {
  offload.Start(
      deadline,
      [&outcome] {
        absl::MutexLock lock(&outcome.mu);
        outcome.worked = true;
        outcome.done.Notify();
      },
      [&outcome](const absl::Status& why) {
        absl::MutexLock lock(&outcome.mu);
        outcome.refused = why;
        outcome.done.Notify();
      });
}

TEST(CallOffloadTest, WorkRunsOnAWorker) {
  WorkerPool workers(1, 4);
  CallOffload offload(workers, "the test service");
  Outcome outcome;
  StartCall(offload, absl::Now() + absl::Minutes(1), outcome);
  outcome.done.WaitForNotification();
  absl::MutexLock lock(&outcome.mu);
  EXPECT_TRUE(outcome.worked);
  EXPECT_FALSE(outcome.refused.has_value());
}

TEST(CallOffloadTest, ACallFindingTheQueueFullIsRefusedAtOnceAndNeverWorked) {
  WorkerPool workers(1, 1);
  CallOffload offload(workers, "the test service");
  BusyWorker busy(offload);
  Outcome queued;
  StartCall(offload, absl::InfiniteFuture(), queued);
  Outcome refused;
  StartCall(offload, absl::InfiniteFuture(), refused);
  // Answered on the caller's thread, before StartCall returned.
  ASSERT_TRUE(refused.done.HasBeenNotified());
  {
    absl::MutexLock lock(&refused.mu);
    ASSERT_TRUE(refused.refused.has_value());
    EXPECT_EQ(refused.refused->code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(refused.refused->message().find("the test service is at capacity"), std::string::npos)
        << *refused.refused;
    EXPECT_NE(refused.refused->message().find("nothing was done"), std::string::npos);
  }
  busy.Release();
  queued.done.WaitForNotification();
  absl::MutexLock lock(&refused.mu);
  EXPECT_FALSE(refused.worked);
}

TEST(CallOffloadTest, ACallWhoseDeadlinePassedWhileQueuedIsAnsweredWithoutBeingWorked) {
  WorkerPool workers(1, 4);
  CallOffload offload(workers, "the test service");
  BusyWorker busy(offload);
  Outcome late;
  StartCall(offload, absl::Now() + absl::Milliseconds(50), late);
  // The worker is freed only once the deadline has passed.
  absl::SleepFor(absl::Milliseconds(100));
  busy.Release();
  late.done.WaitForNotification();
  absl::MutexLock lock(&late.mu);
  EXPECT_FALSE(late.worked);
  ASSERT_TRUE(late.refused.has_value());
  EXPECT_EQ(late.refused->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(late.refused->message().find("nothing was done"), std::string::npos);
}

}  // namespace
}  // namespace signpost
