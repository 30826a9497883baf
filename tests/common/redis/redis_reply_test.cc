#include "common/redis/redis_reply.h"

#include <gtest/gtest.h>

namespace signpost::redis {
namespace {

TEST(RedisReplyTest, AServerThatCannotTakeTheCommandForAWhileIsUnavailable) {
  for (const char* reply : {
           "LOADING Redis is loading the dataset in memory",
           "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
           "TRYAGAIN Multiple keys request during rehashing of slot",
           "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
           "OOM command not allowed when used memory > 'maxmemory'.",
           "OOM command not allowed when used memory > 'maxmemory'. script: "
           "9b1d3c7e, on @user_script:12.",
           "READONLY You can't write against a read only replica.",
           "NOREPLICAS Not enough good replicas to write.",
           "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist to disk.",
           "CLUSTERDOWN The cluster is down",
       }) {
    absl::Status s = ErrorReplyStatus(reply);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << reply;
    EXPECT_EQ(s.message(), std::string("redis: ") + reply);
  }
}

TEST(RedisReplyTest, OtherRepliesKeepTheirMeaning) {
  EXPECT_EQ(
      ErrorReplyStatus("WRONGTYPE Operation against a key holding the wrong kind of value").code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReplyStatus("NOSCRIPT No matching script. Please use EVAL.").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReplyStatus("ERR unknown command 'FOO'").code(), absl::StatusCode::kInternal);
  // A word that only begins like a transient one is not one.
  EXPECT_EQ(ErrorReplyStatus("BUSYGROUP Consumer Group name already exists").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorReplyStatus("BUSYKEY Target key name already exists.").code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace signpost::redis
