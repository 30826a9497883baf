#include "common/kafka/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::kafka {
namespace {

using ::testing::HasSubstr;

TEST(KafkaErrorsTest, TransientErrorsAreUnavailable) {
  for (auto code :
       {RdKafka::ERR__MSG_TIMED_OUT, RdKafka::ERR__TRANSPORT, RdKafka::ERR_NOT_ENOUGH_REPLICAS,
        RdKafka::ERR_LEADER_NOT_AVAILABLE, RdKafka::ERR__ALL_BROKERS_DOWN,
        // A producer failed fatally and what it held: sent again on its replacement.
        RdKafka::ERR__FATAL, RdKafka::ERR__PURGE_QUEUE, RdKafka::ERR__PURGE_INFLIGHT}) {
    EXPECT_TRUE(IsRetryable(code)) << RdKafka::err2str(code);
    EXPECT_EQ(KafkaStatus(code, "x").code(), absl::StatusCode::kUnavailable);
  }
}

TEST(KafkaErrorsTest, PermanentErrorsSayWhatToFix) {
  absl::Status too_large = KafkaStatus(RdKafka::ERR_MSG_SIZE_TOO_LARGE, "producing to t");
  EXPECT_EQ(too_large.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_large.message()), HasSubstr("message.max.bytes"));
  absl::Status unknown = KafkaStatus(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART, "producing to t");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("tools/kafka topics"));
  EXPECT_EQ(KafkaStatus(RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(IsRetryable(RdKafka::ERR_MSG_SIZE_TOO_LARGE));
  EXPECT_TRUE(KafkaStatus(RdKafka::ERR_NO_ERROR, "x").ok());
}

}  // namespace
}  // namespace signpost::kafka
