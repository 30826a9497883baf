// The task feed against a real redis-server: a cursor the feed trims away after it was accepted
// restarts from a snapshot instead of going on after a gap.
#include "services/followup/task_feed.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/wait_until.h"

namespace signpost::followup {
namespace {

using signpost::testing::WaitUntil;

class Received final : public TaskFeed::Subscriber {
 public:
  void Deliver(std::vector<v1::TaskUpdate> updates) override {
    absl::MutexLock lock(&mu_);
    for (auto& u : updates) updates_.push_back(std::move(u));
  }
  std::vector<v1::TaskUpdate> Updates() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::TaskUpdate> updates_ ABSL_GUARDED_BY(mu_);
};

TEST(TaskFeedTest, ACursorTrimmedAwayAfterItWasAcceptedRestartsFromASnapshot) {
  signpost::testing::RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  auto pool = signpost::testing::PoolFor(server, 2);
  auto blocking = signpost::testing::PoolFor(server, 1);
  ASSERT_TRUE(pool && blocking);
  RedisKeys keys;
  const std::string feed_key = keys.Feed("lw-1");
  // As commits add to the feed: trimmed by length, a whole node at a time.
  auto add = [&](int i, const std::string& maxlen) {
    v1::Task task;
    task.set_id(absl::StrCat("r", i, "/first-contact"));
    auto reply = pool->Execute(
        {"XADD", feed_key, "MAXLEN", "~", maxlen, "*", "t", task.SerializeAsString()});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->str : "";
  };
  std::string token;
  for (int i = 0; i < 10; ++i) {
    std::string id = add(i, "100");
    if (i == 5) token = id;
  }
  // The snapshot the feed restarts a trimmed cursor from: marked, with the feed's newest token.
  int snapshots_taken = 0;
  TaskFeed feed(*blocking, *pool, keys, [&](const std::string& queue) {
    ++snapshots_taken;
    v1::TaskUpdate task, end;
    task.mutable_task()->set_id("open-task");
    task.set_snapshot(true);
    end.set_snapshot_end(true);
    auto newest = pool->Execute({"XREVRANGE", keys.Feed(queue), "+", "-", "COUNT", "1"});
    if (!newest.ok()) return absl::StatusOr<std::vector<v1::TaskUpdate>>(newest.status());
    end.set_resume_token(newest->elements[0].elements[0].str);
    return absl::StatusOr<std::vector<v1::TaskUpdate>>(std::vector<v1::TaskUpdate>{task, end});
  });
  auto can = feed.CanResume("lw-1", token);
  ASSERT_TRUE(can.ok()) << can.status();
  ASSERT_TRUE(*can);
  // Accepted; then, before the feed's first read, the feed moves on by three times its length.
  Received app;
  feed.Add(&app, "lw-1", token);
  for (int i = 10; i < 310; ++i) add(i, "100");
  auto first = pool->Execute({"XRANGE", feed_key, "-", "+", "COUNT", "1"});
  ASSERT_TRUE(first.ok());
  ASSERT_GT(*FeedToken::Parse(first->elements[0].elements[0].str), *FeedToken::Parse(token))
      << "the token was not trimmed away: the test shows nothing";
  feed.Start();
  ASSERT_TRUE(WaitUntil([&] { return !app.Updates().empty(); }));
  auto updates = app.Updates();
  EXPECT_TRUE(updates[0].snapshot()) << "went on after a gap, from " << updates[0].resume_token();
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& u : app.Updates()) {
      if (u.snapshot_end()) return true;
    }
    return false;
  }));
  // Updates after the snapshot follow on from its token.
  add(310, "100");
  ASSERT_TRUE(WaitUntil([&] {
    auto all = app.Updates();
    return !all.empty() && all.back().has_task() && all.back().task().id() == "r310/first-contact";
  }));
  for (const auto& u : app.Updates()) {
    EXPECT_TRUE(u.snapshot() || u.snapshot_end() || u.task().id() == "r310/first-contact")
        << u.ShortDebugString();
  }
  EXPECT_EQ(snapshots_taken, 1);
  feed.Remove(&app);

  // A cursor nothing after which was trimmed (here a new queue's empty-feed token) goes on live.
  Received other;
  feed.Add(&other, "lw-2", "0-0");
  v1::Task task;
  task.set_id("r-other/first-contact");
  ASSERT_TRUE(pool->Execute({"XADD", keys.Feed("lw-2"), "MAXLEN", "~", "100", "*", "t",
                             task.SerializeAsString()})
                  .ok());
  ASSERT_TRUE(WaitUntil([&] { return !other.Updates().empty(); }));
  EXPECT_FALSE(other.Updates()[0].snapshot());
  EXPECT_EQ(other.Updates()[0].task().id(), "r-other/first-contact");
  EXPECT_EQ(snapshots_taken, 1);
  feed.Remove(&other);
  feed.Stop();
}

// A subscriber resuming from a cursor earlier than those of the queue's other subscribers (a
// second tab reconnecting with its last event id while the first is live) is given every update
// after its cursor: the read in flight when it was added, which started after the others' later
// cursor, holds none of the updates between the two, and must not move it past them.
TEST(TaskFeedTest, AResumeBehindAnotherSubscriberOfItsQueueMissesNothing) {
  signpost::testing::RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  auto pool = signpost::testing::PoolFor(server, 2);
  auto blocking = signpost::testing::PoolFor(server, 1);
  ASSERT_TRUE(pool && blocking);
  RedisKeys keys;
  auto add = [&](const std::string& id) {
    v1::Task task;
    task.set_id(id);
    auto reply = pool->Execute(
        {"XADD", keys.Feed("lw-1"), "MAXLEN", "~", "1000", "*", "t", task.SerializeAsString()});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->str : "";
  };
  TaskFeed feed(*blocking, *pool, keys, [](const std::string&) {
    return absl::StatusOr<std::vector<v1::TaskUpdate>>(absl::InternalError("no snapshot here"));
  });
  feed.Start();
  std::string before = add("r0/first-contact");
  Received live;
  feed.Add(&live, "lw-1", before);
  // Each round: the live tab is up to date; another resumes from the round's first update while
  // the feed waits for the next, which then comes at once.
  for (int round = 0; round < 5; ++round) {
    const std::string missed = absl::StrCat("r", round, "/missed");
    const std::string next = absl::StrCat("r", round, "/next");
    std::string resume_from = add(absl::StrCat("r", round, "/seen"));
    add(missed);
    ASSERT_TRUE(WaitUntil([&] {
      auto all = live.Updates();
      return !all.empty() && all.back().task().id() == missed;
    }));
    Received resumed;
    feed.Add(&resumed, "lw-1", resume_from);
    add(next);
    ASSERT_TRUE(WaitUntil([&] {
      auto all = resumed.Updates();
      return !all.empty() && all.back().task().id() == next;
    })) << "round "
        << round;
    std::vector<std::string> ids;
    for (const auto& u : resumed.Updates()) ids.push_back(u.task().id());
    EXPECT_EQ(ids, (std::vector<std::string>{missed, next})) << "round " << round;
    feed.Remove(&resumed);
  }
  feed.Remove(&live);
  feed.Stop();
}

}  // namespace
}  // namespace signpost::followup
