#include "common/redis/replica_ack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::redis {
namespace {

using ::testing::HasSubstr;

Reply Integer(int64_t n) {
  Reply reply;
  reply.type = Reply::Type::kInteger;
  reply.integer = n;
  return reply;
}

TEST(ReplicaAckTest, WaitCommandCarriesTheCountAndTimeout) {
  EXPECT_EQ(WaitCommand({.replicas = 2, .timeout = absl::Milliseconds(1500)}),
            (Command{"WAIT", "2", "1500"}));
}

TEST(ReplicaAckTest, OnlyKnownReadsAreSaidNotToWrite) {
  EXPECT_FALSE(MayWrite({"GET", "k"}));
  EXPECT_FALSE(MayWrite({"hgetall", "case:1"}));
  EXPECT_FALSE(MayWrite({"PING"}));
  EXPECT_FALSE(MayWrite({"EVALSHA_RO", "abc", "0"}));
  EXPECT_TRUE(MayWrite({"SET", "k", "v"}));
  EXPECT_TRUE(MayWrite({"EVALSHA", "abc", "0"}));  // a script may write
  EXPECT_TRUE(MayWrite({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}));
  EXPECT_TRUE(MayWrite({"SOMENEWCOMMAND"}));  // unknown: assumed to write
}

TEST(ReplicaAckTest, EnoughReplicasIsOk) {
  const ReplicaAck ack{.replicas = 1, .timeout = absl::Seconds(1)};
  EXPECT_TRUE(ReplicaAckStatus(Integer(1), ack, "redis at r:6379").ok());
  EXPECT_TRUE(ReplicaAckStatus(Integer(2), ack, "redis at r:6379").ok());
}

TEST(ReplicaAckTest, TooFewReplicasIsUnavailableNamingTheShortfall) {
  absl::Status status = ReplicaAckStatus(
      Integer(1), {.replicas = 2, .timeout = absl::Milliseconds(800)}, "redis at r:6379");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "redis at r:6379: written on the primary but acknowledged by only 1 of 2 replicas "
            "within 800 ms");
}

TEST(ReplicaAckTest, ARefusedWaitIsUnavailable) {
  Reply refused;
  refused.type = Reply::Type::kError;
  refused.str = "ERR WAIT cannot be used with replica instances.";
  absl::Status status = ReplicaAckStatus(refused, {.replicas = 1}, "redis at r:6379");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("WAIT refused: ERR WAIT cannot"));
  EXPECT_EQ(ReplicaAckStatus(Reply{}, {.replicas = 1}, "x").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace signpost::redis
