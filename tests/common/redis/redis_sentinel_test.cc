// Redis as production runs it: a primary, a replica and three Sentinels (real redis-server
// processes on loopback), with the pool finding the primary through Sentinel, following a
// failover and waiting for replicas (WAIT).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/redis/redis_pool.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_sentinel_set.h"
#include "tests/support/wait_until.h"

namespace signpost::redis {
namespace {

using ::testing::HasSubstr;

constexpr char kUser[] = "signpost";
constexpr char kPassword[] = "primary-secret";
constexpr char kSentinelPassword[] = "sentinel-secret";

testing::RedisSentinelSetOptions SetOptions() {
  return {.username = kUser, .password = kPassword, .sentinel_password = kSentinelPassword};
}

PoolOptions SentinelPoolOptions(const testing::RedisSentinelSet& set, size_t size = 2) {
  PoolOptions options;
  options.sentinel.sentinels = *ParseHostPortList(set.sentinels());
  options.sentinel.master_name = set.master_name();
  options.sentinel.password = kSentinelPassword;
  options.credentials = {.username = kUser, .password = kPassword};
  options.size = size;
  return options;
}

// Every sentinel names server `index` as the primary from now on (what a failover leaves behind,
// without the client kill Sentinel also sends); the servers' roles are the caller's to change.
void PointSentinelsAt(testing::RedisSentinelSet& set, int index) {
  const std::string name = set.master_name();
  for (int i = 0; i < 3; ++i) {
    testing::RedisServer& sentinel = set.sentinel(i);
    ASSERT_EQ(sentinel.Run({"SENTINEL", "REMOVE", name})->type, Reply::Type::kStatus);
    auto monitor = sentinel.Run(
        {"SENTINEL", "MONITOR", name, "127.0.0.1", absl::StrCat(set.server(index).port()), "2"});
    ASSERT_EQ(monitor->type, Reply::Type::kStatus) << monitor->str;
    ASSERT_EQ(
        sentinel.Run({"SENTINEL", "SET", name, "auth-user", kUser, "auth-pass", kPassword})->type,
        Reply::Type::kStatus);
  }
}

std::unique_ptr<RedisPool> MakePool(const PoolOptions& options) {
  auto pool = RedisPool::Create(options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? *std::move(pool) : nullptr;
}

TEST(RedisSentinelSetTest, PromotesTheReplicaWhenThePrimaryIsKilled) {
  testing::RedisSentinelSet set(SetOptions());
  ASSERT_TRUE(set.Start().ok());
  auto primary = set.PrimaryAddress();
  ASSERT_TRUE(primary.ok()) << primary.status();
  ASSERT_EQ(*primary, set.server(0).address());
  auto written = set.server(0).Run({"SET", "before", "1"});
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(set.server(0).Run({"WAIT", "1", "5000"})->integer, 1);

  auto killed = set.KillPrimary();
  ASSERT_TRUE(killed.ok()) << killed.status();
  auto promoted = set.WaitForFailover(*killed);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(*promoted, set.server(1).address());
  EXPECT_EQ(set.server(1).Run({"GET", "before"})->str, "1");
}

// One set for the tests that do not change who is the primary.
class RedisSentinelPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new testing::RedisSentinelSet(SetOptions());
    absl::Status started = set_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(set_ && set_->Primary() == &set_->server(0)); }

  static testing::RedisSentinelSet* set_;
};
testing::RedisSentinelSet* RedisSentinelPoolTest::set_ = nullptr;

TEST_F(RedisSentinelPoolTest, FindsThePrimaryThroughSentinelAskingEachInTurn) {
  PoolOptions options = SentinelPoolOptions(*set_);
  // The first sentinel named is down: the next one answers.
  options.sentinel.sentinels.insert(options.sentinel.sentinels.begin(),
                                    HostPort{"127.0.0.1", uint16_t(testing::FreePort())});
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  EXPECT_TRUE(pool->CheckAccess().ok()) << pool->CheckAccess();
  auto set = pool->Execute({"SET", "found", "through sentinel"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set_->server(0).Run({"GET", "found"})->str, "through sentinel");
}

TEST_F(RedisSentinelPoolTest, WrongSentinelPasswordIsRefusedNamingTheSentinel) {
  PoolOptions options = SentinelPoolOptions(*set_);
  options.sentinel.password = "not-the-sentinel-password";
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  absl::Status access = pool->CheckAccess();
  EXPECT_EQ(access.code(), absl::StatusCode::kPermissionDenied) << access;
  EXPECT_THAT(std::string(access.message()), HasSubstr("sentinel 127.0.0.1:"));
  EXPECT_THAT(std::string(access.message()), HasSubstr("WRONGPASS"));
}

TEST_F(RedisSentinelPoolTest, WrongRedisPasswordBehindSentinelIsRefusedNamingTheUser) {
  PoolOptions options = SentinelPoolOptions(*set_);
  options.credentials.password = "wrong";
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  absl::Status access = pool->CheckAccess();
  EXPECT_EQ(access.code(), absl::StatusCode::kPermissionDenied) << access;
  EXPECT_THAT(std::string(access.message()),
              HasSubstr(absl::StrCat("redis at ", set_->server(0).address(),
                                     ": authentication as user 'signpost' refused: WRONGPASS")));
}

// A user without ROLE cannot have its primary checked: a start-up error naming the user and
// the command, not UNAVAILABLE (which callers retry for ever).
TEST_F(RedisSentinelPoolTest, AUserNotAllowedRoleIsRefusedNamingTheUserAndRole) {
  for (int i = 0; i < 2; ++i) {
    auto added = set_->server(i).Run(
        {"ACL", "SETUSER", "no-role", "on", ">no-role-secret", "~*", "&*", "+@all", "-role"});
    ASSERT_TRUE(added.ok() && added->type == Reply::Type::kStatus) << added->str;
  }
  PoolOptions options = SentinelPoolOptions(*set_);
  options.credentials = {.username = "no-role", .password = "no-role-secret"};
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  absl::Status access = pool->CheckAccess();
  EXPECT_EQ(access.code(), absl::StatusCode::kPermissionDenied) << access;
  EXPECT_THAT(std::string(access.message()), HasSubstr("user 'no-role'"));
  EXPECT_THAT(std::string(access.message()), HasSubstr("ROLE"));
}

TEST_F(RedisSentinelPoolTest, WaitForOneReplicaSucceedsWithTheWriteOnTheReplica) {
  PoolOptions options = SentinelPoolOptions(*set_);
  options.replica_ack = {.replicas = 1, .timeout = absl::Seconds(1)};
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  auto replies = pool->Pipeline({{"SET", "acked", "yes"}, {"INCR", "acked-count"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 2u);  // WAIT's own reply is not the caller's
  // Acknowledged by the replica before the call returned: it is already there.
  EXPECT_EQ(set_->server(1).Run({"GET", "acked"})->str, "yes");
  EXPECT_TRUE(pool->Execute({"GET", "acked"}).ok());
}

TEST_F(RedisSentinelPoolTest, WaitWithTheReplicaFrozenIsUnavailableNamingTheShortfall) {
  PoolOptions options = SentinelPoolOptions(*set_);
  options.replica_ack = {.replicas = 1, .timeout = absl::Milliseconds(500)};
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  ASSERT_TRUE(pool->Execute({"SET", "warm", "1"}).ok());
  set_->server(1).Suspend();
  auto written = pool->Execute({"SET", "unacked", "1"});
  // Reads change nothing and wait for no replica: they, and readiness's PING, still answer.
  auto read = pool->Execute({"GET", "warm"});
  absl::Status ping = pool->Ping();
  set_->server(1).Resume();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "1");
  EXPECT_TRUE(ping.ok()) << ping;
  EXPECT_EQ(written.status().code(), absl::StatusCode::kUnavailable) << written.status();
  EXPECT_THAT(std::string(written.status().message()),
              HasSubstr("written on the primary but acknowledged by only 0 of 1 replicas within "
                        "500 ms"));
  // Once the replica is back, calls succeed again.
  EXPECT_TRUE(testing::WaitUntil([&] { return pool->Execute({"SET", "after", "1"}).ok(); }));
}

// A primary demoted behind the pool's back (no connection closed) answers READONLY: the call
// fails UNAVAILABLE, not re-run, and the pool asks Sentinel for the new primary.
TEST(RedisSentinelFailoverTest, ReadOnlyReplyLeadsBackToSentinel) {
  testing::RedisSentinelSet set(SetOptions());
  ASSERT_TRUE(set.Start().ok());
  auto pool = MakePool(SentinelPoolOptions(set, /*size=*/1));
  ASSERT_TRUE(pool);
  ASSERT_TRUE(pool->Execute({"SET", "k", "on the first primary"}).ok());

  // What a failover does, without the client kill Sentinel also sends: every sentinel now
  // names server 1, which is promoted, and server 0 follows it.
  ASSERT_NO_FATAL_FAILURE(PointSentinelsAt(set, 1));
  ASSERT_EQ(set.server(1).Run({"REPLICAOF", "NO", "ONE"})->type, Reply::Type::kStatus);
  ASSERT_EQ(set.server(0).Run({"REPLICAOF", "127.0.0.1", absl::StrCat(set.server(1).port())})->type,
            Reply::Type::kStatus);

  auto refused = pool->Execute({"SET", "k", "on the demoted primary"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("READONLY"));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("asking Sentinel for the new one"));

  auto written = pool->Execute({"SET", "k", "on the new primary"});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(set.server(1).Run({"GET", "k"})->str, "on the new primary");
}

// The primary the pool uses still says master, but the sentinels have moved on (a partition cut
// it off from them and from its replica, and they promoted the replica): it takes writes no
// replica acknowledges, or refuses them (NOREPLICAS, with min-replicas-to-write). Nothing closes
// the pool's connections to it, so the pool asks Sentinel again itself, and moves.
TEST(RedisSentinelFailoverTest, APrimaryThatCannotReplicateIsLeftOnceSentinelNamesAnother) {
  testing::RedisSentinelSet set(SetOptions());
  ASSERT_TRUE(set.Start().ok());
  auto plain = MakePool(SentinelPoolOptions(set, /*size=*/1));
  PoolOptions acked_options = SentinelPoolOptions(set, /*size=*/1);
  acked_options.replica_ack = {.replicas = 1, .timeout = absl::Milliseconds(300)};
  auto acked = MakePool(acked_options);
  ASSERT_TRUE(plain && acked);
  ASSERT_TRUE(plain->Execute({"SET", "k", "on the first primary"}).ok());
  ASSERT_TRUE(acked->Execute({"SET", "k", "on the first primary"}).ok());

  ASSERT_NO_FATAL_FAILURE(PointSentinelsAt(set, 1));
  ASSERT_EQ(set.server(1).Run({"REPLICAOF", "NO", "ONE"})->type, Reply::Type::kStatus);

  // WAIT finds no replica on the old primary: the pool moves to the one Sentinel names (which
  // has no replica either, so the call is still UNAVAILABLE, but it is written there).
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        auto reply = acked->Execute({"SET", "acked", "on the new primary"});
        EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
        auto there = set.server(1).Run({"GET", "acked"});
        return there.ok() && there->str == "on the new primary";
      },
      absl::Seconds(20)));

  // The old primary refuses writes without a replica: the pool moves too.
  ASSERT_EQ(set.server(0).Run({"CONFIG", "SET", "min-replicas-to-write", "1"})->type,
            Reply::Type::kStatus);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return plain->Execute({"SET", "k", "on the new primary"}).ok();
      },
      absl::Seconds(20)));
  EXPECT_EQ(set.server(1).Run({"GET", "k"})->str, "on the new primary");
}

// kill -9 of the primary: Sentinel promotes the replica and the same pool serves writes there
// without a restart; every call that failed meanwhile failed UNAVAILABLE.
TEST(RedisSentinelFailoverTest, ServesWritesOnThePromotedReplicaAfterThePrimaryIsKilled) {
  testing::RedisSentinelSet set(SetOptions());
  ASSERT_TRUE(set.Start().ok());
  PoolOptions options = SentinelPoolOptions(set, /*size=*/3);
  options.replica_ack = {.replicas = 1, .timeout = absl::Seconds(1)};
  auto pool = MakePool(options);
  ASSERT_TRUE(pool);
  ASSERT_TRUE(pool->Execute({"SET", "before", "acked by the replica"}).ok());

  auto killed = set.KillPrimary();
  ASSERT_TRUE(killed.ok()) << killed.status();
  // A pool without replica acknowledgement writes as soon as the promotion is done.
  auto pool_without_ack = MakePool(SentinelPoolOptions(set, /*size=*/3));
  ASSERT_TRUE(pool_without_ack);
  int failed = 0;
  bool served = testing::WaitUntil(
      [&] {
        auto reply = pool_without_ack->Execute({"SET", "after", "on the new primary"});
        if (!reply.ok()) {
          ++failed;
          EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
        }
        return reply.ok();
      },
      absl::Seconds(90));
  ASSERT_TRUE(served);
  std::printf("calls refused between the kill and the first write on the new primary: %d\n",
              failed);
  EXPECT_EQ(set.server(1).Run({"GET", "after"})->str, "on the new primary");
  EXPECT_EQ(set.server(1).Run({"GET", "before"})->str, "acked by the replica");
  EXPECT_THAT(set.server(1).Run({"ROLE"})->elements[0].str, "master");

  // The pool that wanted one replica acknowledging: UNAVAILABLE naming the shortfall while the
  // new primary has none, and writes again once the old primary is back as its replica.
  auto unacked = pool->Execute({"SET", "while alone", "1"});
  EXPECT_EQ(unacked.status().code(), absl::StatusCode::kUnavailable) << unacked.status();
  EXPECT_THAT(std::string(unacked.status().message()),
              HasSubstr("acknowledged by only 0 of 1 replicas"));
  ASSERT_TRUE(set.server(0).Start().ok());  // Sentinel turns it into the new primary's replica
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return pool->Execute({"SET", "acked again", "1"}).ok();
      },
      absl::Seconds(90)));
  EXPECT_EQ(set.server(0).Run({"GET", "acked again"})->str, "1");
}

}  // namespace
}  // namespace signpost::redis
