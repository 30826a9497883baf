#include "common/redis/redis_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_until.h"

namespace signpost::redis {
namespace {

using ::testing::HasSubstr;

class RedisPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }

  std::unique_ptr<RedisPool> MakePool(size_t size = 2, absl::Duration timeout = absl::Seconds(2)) {
    PoolOptions options;
    options.address = *ParseRedisAddress(server_.address());
    options.size = size;
    options.command_timeout = timeout;
    auto pool = RedisPool::Create(options);
    EXPECT_TRUE(pool.ok());
    return *std::move(pool);
  }

  testing::RedisServer server_;
};

// Issue 26: what each service's work costs Redis, counted where it is sent.
TEST_F(RedisPoolTest, CountsRoundTripsAndTheCommandsTheyCarry) {
  metrics::Registry registry;
  PoolOptions options;
  options.address = *ParseRedisAddress(server_.address());
  options.metrics = &registry;
  auto pool = RedisPool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->Execute({"SET", "resource:1", "walking group"}).ok());
  ASSERT_TRUE((*pool)->Pipeline({{"GET", "resource:1"}, {"DEL", "resource:1"}, {"PING"}}).ok());
  EXPECT_EQ(registry.GetCounter("signpost_redis_round_trips_total", "").Value(), 2);
  EXPECT_EQ(registry.GetCounter("signpost_redis_commands_total", "").Value(), 4);
}

// Issue 26: a round trip that found every connection in use is counted, so that a benchmark shows
// a pool too small for the service's workers (they queue behind each other for connections).
TEST_F(RedisPoolTest, CountsTheRoundTripsThatWaitedForAConnection) {
  metrics::Registry registry;
  PoolOptions options;
  options.address = *ParseRedisAddress(server_.address());
  options.size = 1;
  // The waiting round trip gives up at once (UNAVAILABLE, counted all the same) while the holder's
  // blocking read runs on: however slow this thread, it finds the connection in use.
  options.acquire_timeout = absl::Milliseconds(100);
  options.command_timeout = absl::Seconds(30);
  options.metrics = &registry;
  auto pool = RedisPool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->Execute({"PING"}).ok());
  metrics::Counter& waits = registry.GetCounter("signpost_redis_pool_waits_total", "");
  EXPECT_EQ(waits.Value(), 0) << "a free connection is no wait";

  // The one connection held by a blocking read until the list gets an item.
  std::thread holder([&] { (void)(*pool)->Execute({"BLPOP", "nothing-queued", "20"}); });
  auto watcher = MakePool();
  bool held = signpost::testing::WaitUntil(
      [&] {
        auto info = watcher->Execute({"INFO", "clients"});
        return info.ok() && absl::StrContains(info->str, "blocked_clients:1");
      },
      absl::Seconds(10));
  EXPECT_TRUE(held);
  auto waited = (*pool)->Execute({"PING"});
  EXPECT_EQ(waited.status().code(), absl::StatusCode::kUnavailable) << waited.status();
  ASSERT_TRUE(watcher->Execute({"LPUSH", "nothing-queued", "x"}).ok());
  holder.join();
  EXPECT_EQ(waits.Value(), 1);
}

TEST_F(RedisPoolTest, ExecutesCommandsAndPipelines) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Execute({"SET", "resource:1", "walking group"}).ok());
  auto got = pool->Execute({"GET", "resource:1"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type, Reply::Type::kString);
  EXPECT_EQ(got->str, "walking group");
  EXPECT_TRUE(pool->Execute({"GET", "missing"})->is_nil());

  auto replies = pool->Pipeline({{"INCR", "n"},
                                 {"INCR", "n"},
                                 {"LPUSH", "resource:1", "x"},
                                 {"HSET", "h", "f", "v"},
                                 {"HGETALL", "h"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 5u);
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_EQ((*replies)[2].type, Reply::Type::kError);  // WRONGTYPE stays in the vector
  ASSERT_EQ((*replies)[4].elements.size(), 2u);
  EXPECT_EQ((*replies)[4].elements[1].str, "v");
}

TEST_F(RedisPoolTest, ErrorRepliesBecomeStatuses) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Execute({"SET", "k", "v"}).ok());
  auto wrong = pool->Execute({"LPUSH", "k", "x"});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(pool->Execute({"NOSUCHCOMMAND"}).status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(pool->Ping().ok());  // the connection is still good after error replies
}

TEST_F(RedisPoolTest, SlowCommandTimesOutUnavailableAndTheConnectionIsRemade) {
  auto pool = MakePool(1, absl::Milliseconds(200));
  auto slow = pool->Execute({"BLPOP", "never-pushed", "2"});
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(slow.status().message()), HasSubstr("timed out"));
  auto next = pool->Execute({"PING"});
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(RedisPoolTest, RecoversAfterRedisServerRestarts) {
  auto pool = MakePool(3);
  ASSERT_TRUE(pool->Execute({"SET", "before", "1"}).ok());
  // Warm every connection so that all of them go stale with the restart.
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&pool] { EXPECT_TRUE(pool->Execute({"PING"}).ok()); });
  }
  for (auto& t : threads) t.join();

  server_.Stop(/*crash=*/true);
  auto down = pool->Execute({"PING"});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();

  ASSERT_TRUE(server_.Start().ok());
  // Every pooled connection was closed by the old server: each is remade on use.
  for (int i = 0; i < 6; ++i) {
    auto reply = pool->Execute({"SET", "after", std::to_string(i)});
    EXPECT_TRUE(reply.ok()) << "call " << i << ": " << reply.status();
  }
  EXPECT_EQ(pool->Execute({"GET", "after"})->str, "5");
}

TEST(RedisPoolUnreachableTest, NothingListeningIsUnavailable) {
  PoolOptions options;
  options.address = *ParseRedisAddress("127.0.0.1:" + std::to_string(testing::FreePort()));
  auto pool = RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  auto reply = (*pool)->Execute({"PING"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("unreachable"));
}

// A Redis that requires a password: every pooled connection authenticates right after
// connecting, and refused credentials are a clear error naming Redis and the user.
class RedisPoolAuthTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisPool> MakePool(const testing::RedisServer& server,
                                      RedisCredentials credentials, size_t size = 2) {
    PoolOptions options;
    options.address = *ParseRedisAddress(server.address());
    options.size = size;
    options.credentials = std::move(credentials);
    auto pool = RedisPool::Create(options);
    EXPECT_TRUE(pool.ok());
    return *std::move(pool);
  }
};

TEST_F(RedisPoolAuthTest, AclUserAuthenticatesOnEveryConnection) {
  testing::RedisServer server({.username = "signpost", .password = "s3cret pass"});
  ASSERT_TRUE(server.Start().ok());
  auto pool = MakePool(server, {.username = "signpost", .password = "s3cret pass"}, 3);
  EXPECT_TRUE(pool->CheckAccess().ok()) << pool->CheckAccess();
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&pool, i] {
      auto reply = pool->Execute({"SET", absl::StrCat("k", i), "v"});
      EXPECT_TRUE(reply.ok()) << reply.status();
    });
  }
  for (auto& t : threads) t.join();
  auto who = pool->Execute({"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->str, "signpost");
}

TEST_F(RedisPoolAuthTest, PasswordOnlyAuthenticatesAsTheDefaultUser) {
  testing::RedisServer server({.password = "only-a-password"});
  ASSERT_TRUE(server.Start().ok());
  auto pool = MakePool(server, {.password = "only-a-password"});
  EXPECT_TRUE(pool->CheckAccess().ok());
  EXPECT_EQ(pool->Execute({"ACL", "WHOAMI"})->str, "default");
}

TEST_F(RedisPoolAuthTest, WrongPasswordIsRefusedNamingRedisAndTheUser) {
  testing::RedisServer server({.username = "signpost", .password = "right"});
  ASSERT_TRUE(server.Start().ok());
  auto pool = MakePool(server, {.username = "signpost", .password = "wrong"});
  absl::Status access = pool->CheckAccess();
  EXPECT_EQ(access.code(), absl::StatusCode::kPermissionDenied) << access;
  EXPECT_THAT(std::string(access.message()),
              HasSubstr(absl::StrCat("redis at ", server.address(),
                                     ": authentication as user 'signpost' refused: WRONGPASS")));
  EXPECT_THAT(std::string(access.message()), ::testing::Not(HasSubstr("wrong")));
  // To a caller it is an outage (retried), with the same explanation.
  auto reply = pool->Execute({"PING"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("refused: WRONGPASS"));
}

TEST_F(RedisPoolAuthTest, NoPasswordForARedisThatRequiresOneIsRefused) {
  testing::RedisServer server({.password = "needed"});
  ASSERT_TRUE(server.Start().ok());
  auto pool = MakePool(server, {});
  absl::Status access = pool->CheckAccess();
  EXPECT_EQ(access.code(), absl::StatusCode::kPermissionDenied) << access;
  EXPECT_THAT(std::string(access.message()), HasSubstr("requires authentication"));
  EXPECT_THAT(std::string(access.message()), HasSubstr("--redis-password-file"));
}

TEST_F(RedisPoolAuthTest, UnreachableRedisIsUnavailableNotRefused) {
  PoolOptions options;
  options.address = *ParseRedisAddress("127.0.0.1:" + std::to_string(testing::FreePort()));
  options.credentials = {.username = "signpost", .password = "x"};
  auto pool = RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ((*pool)->CheckAccess().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace signpost::redis
