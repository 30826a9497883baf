// The outbox publisher against a real redis-server, with producers whose sends the test holds:
// one publisher at a time, in commit order, whatever the broker does.
#include "services/followup/outbox_publisher.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/metrics/registry.h"
#include "tests/support/fake_producer.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/wait_until.h"

namespace signpost::followup {
namespace {

using signpost::testing::WaitUntil;

constexpr char kTopic[] = "signpost.followup.events";

// A short lease, so that the tests outlast it many times over: sends of up to 300 ms.
const OutboxLease kLease = {.longest_send = absl::Milliseconds(300),
                            .ttl = absl::Seconds(1),
                            .renew_every = absl::Milliseconds(100)};

// Redis as one instance sees it: cut off (every command UNAVAILABLE) while `cut` is set.
class PartitionedRedis final : public redis::RedisClient {
 public:
  explicit PartitionedRedis(redis::RedisClient& real) : real_(real) {}
  std::atomic<bool> cut{false};

  absl::StatusOr<redis::Reply> Execute(const redis::Command& command) override {
    if (cut) return absl::UnavailableError("cut off from Redis");
    return real_.Execute(command);
  }
  absl::StatusOr<std::vector<redis::Reply>> Pipeline(
      const std::vector<redis::Command>& commands) override {
    if (cut) return absl::UnavailableError("cut off from Redis");
    return real_.Pipeline(commands);
  }

 private:
  redis::RedisClient& real_;
};

class OutboxPublisherTest : public testing::RedisPoolTest {
 protected:
  OutboxPublisherTest() : RedisPoolTest(4) {}

  // As a case commit leaves an event in the outbox.
  void Commit(const std::string& rid) {
    v1::Event event;
    event.mutable_case_event()->set_reason("committed");
    events::Seal(event, rid, "signpost-followup", absl::Now());
    auto added = pool_->Execute({"XADD", keys_.Outbox(), "*", "topic", kTopic, "key", rid, "value",
                                 event.SerializeAsString()});
    ASSERT_TRUE(added.ok()) << added.status();
  }

  int64_t OutboxLength() {
    auto length = pool_->Execute({"XLEN", keys_.Outbox()});
    EXPECT_TRUE(length.ok());
    return length.ok() ? length->integer : -1;
  }

  RedisKeys keys_;
  metrics::Registry metrics_;
};

// A broker that stalls mid-send (the send outlasts the lease several times over): the publisher
// that is sending stays the only one, so nothing is published twice or out of order.
TEST_F(OutboxPublisherTest, NoOtherInstanceTakesOverWhileTheHolderIsMidSend) {
  testing::FakeProducer stalled;
  stalled.Hold(true);
  OutboxPublisher holder(*pool_, keys_, stalled, "holder", metrics_, kLease);
  for (const char* rid : {"r1", "r2", "r3"}) Commit(rid);
  holder.Start();
  holder.Wake();
  ASSERT_TRUE(WaitUntil([&] { return stalled.HeldCount() == 3; }));

  testing::FakeProducer healthy;
  metrics::Registry other_metrics;
  OutboxPublisher other(*pool_, keys_, healthy, "other", other_metrics, kLease);
  const absl::Time until = absl::Now() + 5 * kLease.ttl;
  while (absl::Now() < until) {
    auto published = other.PublishOnce();
    ASSERT_TRUE(published.ok()) << published.status();
    ASSERT_EQ(*published, 0) << "took over while the holder was still sending";
    absl::SleepFor(kLease.ttl / 20);
  }
  EXPECT_TRUE(healthy.Sent(kTopic).empty());

  // The broker answers at last: the holder's batch is done, and it goes on publishing.
  stalled.Hold(false);
  stalled.ReleaseHeld();
  ASSERT_TRUE(WaitUntil([&] { return OutboxLength() == 0; }));
  Commit("r4");
  holder.Wake();
  ASSERT_TRUE(WaitUntil([&] { return stalled.Sent(kTopic).size() == 4; }));
  EXPECT_EQ(*other.PublishOnce(), 0);
  EXPECT_TRUE(healthy.Sent(kTopic).empty());
  EXPECT_EQ(metrics_.GetCounter("signpost_followup_outbox_lease_lost_total", "").Value(), 0);
  std::vector<std::string> order;
  for (const auto& m : stalled.Sent(kTopic)) order.push_back(m.key);
  EXPECT_EQ(order, (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  holder.Stop();
}

// The holder is cut off from Redis while its send waits on the broker, so its lease runs out and
// another instance takes over. When the holder's send ends it neither deletes what the new holder
// has still to publish nor publishes anything more: the new holder publishes everything, in
// commit order.
TEST_F(OutboxPublisherTest, AHolderThatLostItsLeasePublishesNothingMoreAndDeletesNothing) {
  PartitionedRedis holder_redis(*pool_);
  testing::FakeProducer stalled;
  stalled.Hold(true);
  OutboxPublisher holder(holder_redis, keys_, stalled, "holder", metrics_, kLease);
  for (const char* rid : {"r1", "r2", "r3"}) Commit(rid);
  holder.Start();
  holder.Wake();
  ASSERT_TRUE(WaitUntil([&] { return stalled.HeldCount() == 3; }));

  holder_redis.cut = true;
  testing::FakeProducer next_producer;
  next_producer.Hold(true);  // the new holder's send waits too, with the entries still there
  metrics::Registry next_metrics;
  OutboxPublisher next(*pool_, keys_, next_producer, "next", next_metrics, kLease);
  next.Start();
  ASSERT_TRUE(WaitUntil([&] {
    next.Wake();
    return next_producer.HeldCount() == 3;
  })) << "the lease of a holder cut off from Redis never ran out";

  // The old holder's send ends (in production it has by now: its lease outlasts any send).
  holder_redis.cut = false;
  stalled.Hold(false);
  stalled.ReleaseHeld();
  auto& lost = metrics_.GetCounter("signpost_followup_outbox_lease_lost_total", "");
  ASSERT_TRUE(WaitUntil([&] { return lost.Value() == 1; }));
  EXPECT_EQ(OutboxLength(), 3) << "a stale holder deleted entries the new holder has to publish";

  Commit("r4");
  holder.Wake();
  next_producer.Hold(false);
  next_producer.ReleaseHeld();
  next.Wake();
  ASSERT_TRUE(WaitUntil([&] { return next_producer.Sent(kTopic).size() == 4; }));
  ASSERT_TRUE(WaitUntil([&] { return OutboxLength() == 0; }));
  std::vector<std::string> order;
  for (const auto& m : next_producer.Sent(kTopic)) order.push_back(m.key);
  EXPECT_EQ(order, (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(stalled.Sent(kTopic).size(), 3u);  // only the send begun while it held the lease
  EXPECT_EQ(*holder.PublishOnce(), 0);
  next.Stop();
  holder.Stop();
}

// A holder that stops has nothing in flight: it hands over at once instead of after the lease.
TEST_F(OutboxPublisherTest, AHolderThatStopsHandsOverAtOnce) {
  const OutboxLease long_lease = OutboxLease::For(absl::Seconds(30));
  ASSERT_TRUE(long_lease.Check().ok());
  testing::FakeProducer first_producer, second_producer;
  {
    OutboxPublisher first(*pool_, keys_, first_producer, "first", metrics_, long_lease);
    Commit("r1");
    ASSERT_EQ(*first.PublishOnce(), 1);
    first.Stop();
  }
  metrics::Registry second_metrics;
  OutboxPublisher second(*pool_, keys_, second_producer, "second", second_metrics, long_lease);
  Commit("r2");
  auto published = second.PublishOnce();
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 1);
  // Tokens are numbered: the second holding is not the first's, even with the same instance.
  auto lock = pool_->Execute({"GET", keys_.OutboxLock()});
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(lock->str, "second#2");
}

TEST(OutboxLeaseTest, TheLeaseMustOutlastASendAndTwoRenewals) {
  EXPECT_TRUE(OutboxLease::For(absl::Seconds(30)).Check().ok());
  EXPECT_EQ(OutboxLease::For(absl::Seconds(30)).ttl, absl::Seconds(60));
  OutboxLease old_default = {
      .longest_send = absl::Seconds(30), .ttl = absl::Seconds(10), .renew_every = absl::Seconds(2)};
  EXPECT_EQ(old_default.Check().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signpost::followup

namespace signpost::followup {
namespace {

// The lease is sized from the longest send the producer settings allow; no limit is refused.
TEST(LongestSendTest, IsTheLongerOfTheTimeoutsGivenAndNeverUnlimited) {
  EXPECT_EQ(*LongestSend(absl::Seconds(30), {}), absl::Seconds(30));
  EXPECT_EQ(*LongestSend(absl::Seconds(30), {{"message.timeout.ms", "5000"}}), absl::Seconds(5));
  EXPECT_EQ(*LongestSend(absl::Seconds(30),
                         {{"delivery.timeout.ms", "90000"}, {"message.timeout.ms", "5000"}}),
            absl::Seconds(90));
  EXPECT_EQ(*LongestSend(absl::Seconds(30),
                         {{"delivery.timeout.ms", "5000"}, {"message.timeout.ms", "90000"}}),
            absl::Seconds(90));
  for (const char* bad : {"0", "-1", "soon", ""}) {
    auto longest = LongestSend(absl::Seconds(30), {{"message.timeout.ms", bad}});
    ASSERT_FALSE(longest.ok()) << bad;
    EXPECT_EQ(longest.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(longest.status().message().find("message.timeout.ms"), std::string::npos);
  }
  // The lease made from it outlasts it.
  EXPECT_TRUE(OutboxLease::For(*LongestSend(absl::Seconds(30), {})).Check().ok());
  EXPECT_FALSE(
      (OutboxLease{.longest_send = absl::Seconds(30), .ttl = absl::Seconds(40)}).Check().ok());
}

}  // namespace
}  // namespace signpost::followup
