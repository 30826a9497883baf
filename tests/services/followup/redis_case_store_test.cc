// RedisCaseStore's commit against a real redis-server: every key a change names is written as
// the key schema (redis_keys.h) lays it out, including a task that moves between queues and a
// timer replaced by another, and a timer's firing commits once.
#include "services/followup/redis_case_store.h"

#include <gtest/gtest.h>

#include "common/redis/redis_pool.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::followup {
namespace {

v1::Task TaskFor(const std::string& worker, v1::TaskStatus status) {
  v1::Task task;
  task.set_id("r-1/first-contact");
  task.set_referral_id("r-1");
  task.set_link_worker_id(worker);
  task.set_network_id("pcn-north");
  task.set_kind(v1::TASK_KIND_FIRST_CONTACT);
  task.set_status(status);
  task.mutable_created_at()->set_seconds(1000);
  return task;
}

v1::FollowUpTimer TimerFor(const std::string& id, int64_t due_seconds) {
  v1::FollowUpTimer timer;
  timer.set_id(id);
  timer.set_referral_id("r-1");
  timer.mutable_due_at()->set_seconds(due_seconds);
  return timer;
}

class RedisCaseStoreTest : public testing::RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisCaseStore>(*pool_, keys_, "t.");
  }

  int64_t Integer(const redis::Command& command) {
    auto reply = pool_->Execute(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer : -1;
  }

  RedisKeys keys_;
  std::unique_ptr<RedisCaseStore> store_;
};

TEST_F(RedisCaseStoreTest, AChangeWritesEveryKeyItNamesAndATaskMovesBetweenQueues) {
  CaseChange open;
  open.after.set_referral_id("r-1");
  open.tasks.push_back({TaskFor("lw-1", v1::TASK_STATUS_OPEN), ""});
  open.timers_to_add = {TimerFor("r-1/at-risk", 100)};
  v1::Event event;
  event.mutable_envelope()->set_referral_id("r-1");
  open.events.push_back({kafka::Topic::kFollowupEvents, "r-1", event});
  ASSERT_TRUE(store_->Commit(open).ok());

  EXPECT_EQ(Integer({"ZCARD", keys_.Open("lw-1")}), 1);
  EXPECT_EQ(Integer({"XLEN", keys_.Feed("lw-1")}), 1);
  EXPECT_EQ(Integer({"EXISTS", keys_.Timer("r-1/at-risk")}), 1);
  EXPECT_EQ(Integer({"ZCARD", keys_.Timers()}), 1);
  EXPECT_EQ(Integer({"XLEN", keys_.Outbox()}), 1);

  // Reassigned: the task leaves lw-1's queue (whose feed says so) for lw-2's; the timer is
  // replaced.
  CaseChange reassign;
  reassign.expected_version = 1;
  reassign.after.set_referral_id("r-1");
  reassign.tasks.push_back({TaskFor("lw-2", v1::TASK_STATUS_OPEN), "lw-1"});
  reassign.timers_to_cancel = {"r-1/at-risk"};
  reassign.timers_to_add = {TimerFor("r-1/breached", 200)};
  ASSERT_TRUE(store_->Commit(reassign).ok());

  EXPECT_EQ(Integer({"ZCARD", keys_.Open("lw-1")}), 0);
  EXPECT_EQ(Integer({"XLEN", keys_.Feed("lw-1")}), 2);
  EXPECT_EQ(Integer({"ZCARD", keys_.Open("lw-2")}), 1);
  EXPECT_EQ(Integer({"XLEN", keys_.Feed("lw-2")}), 1);
  EXPECT_EQ(Integer({"EXISTS", keys_.Timer("r-1/at-risk")}), 0);
  EXPECT_EQ(Integer({"EXISTS", keys_.Timer("r-1/breached")}), 1);
  EXPECT_EQ(Integer({"ZCARD", keys_.Timers()}), 1);
  auto lw2 = store_->Snapshot("lw-2");
  ASSERT_TRUE(lw2.ok()) << lw2.status();
  ASSERT_EQ(lw2->tasks.size(), 1u);
  EXPECT_EQ(lw2->tasks[0].link_worker_id(), "lw-2");
  auto lw1 = store_->Snapshot("lw-1");
  ASSERT_TRUE(lw1.ok()) << lw1.status();
  EXPECT_TRUE(lw1->tasks.empty());
  EXPECT_NE(lw1->token, "0-0");

  // Ended: off lw-2's open set, told on its feed.
  CaseChange end;
  end.expected_version = 2;
  end.after.set_referral_id("r-1");
  end.tasks.push_back({TaskFor("lw-2", v1::TASK_STATUS_DONE), "lw-2"});
  ASSERT_TRUE(store_->Commit(end).ok());
  EXPECT_EQ(Integer({"ZCARD", keys_.Open("lw-2")}), 0);
  EXPECT_EQ(Integer({"XLEN", keys_.Feed("lw-2")}), 2);
  EXPECT_EQ(Integer({"XLEN", keys_.Feed("lw-1")}), 2);

  // A stale version is refused and writes nothing.
  EXPECT_EQ(store_->Commit(reassign).code(), absl::StatusCode::kAborted);
  auto version = pool_->Execute({"HGET", keys_.Case("r-1"), "v"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->str, "3");
}

TEST_F(RedisCaseStoreTest, ADueTimerIsClaimedOnceAndItsFiringCommitsOnce) {
  CaseChange open;
  open.after.set_referral_id("r-1");
  open.timers_to_add = {TimerFor("r-1/at-risk", 100), TimerFor("r-1/breached", 1000)};
  ASSERT_TRUE(store_->Commit(open).ok());

  const absl::Time now = absl::FromUnixSeconds(500);
  auto claimed = store_->ClaimDueTimers(now, absl::Minutes(1), 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id(), "r-1/at-risk");
  // Leased: nobody else gets it meanwhile.
  auto again = store_->ClaimDueTimers(now, absl::Minutes(1), 10);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());
  // After the lease (the claimer died) it comes back.
  auto later = store_->ClaimDueTimers(now + absl::Minutes(2), absl::Minutes(1), 10);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->size(), 1u);

  CaseChange fire;
  fire.expected_version = 1;
  fire.after.set_referral_id("r-1");
  fire.fired_timer = "r-1/at-risk";
  fire.timers_to_cancel = {"r-1/at-risk"};
  ASSERT_TRUE(store_->Commit(fire).ok());
  fire.expected_version = 2;
  EXPECT_EQ(store_->Commit(fire).code(), absl::StatusCode::kNotFound);

  // A timer whose record is gone is dropped from the schedule when claimed.
  ASSERT_TRUE(pool_->Execute({"DEL", keys_.Timer("r-1/breached")}).ok());
  auto gone = store_->ClaimDueTimers(absl::FromUnixSeconds(2000), absl::Minutes(1), 10);
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_TRUE(gone->empty());
  EXPECT_EQ(Integer({"ZCARD", keys_.Timers()}), 0);
}

}  // namespace
}  // namespace signpost::followup
