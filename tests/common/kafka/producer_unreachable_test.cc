#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/kafka/kafka_producer.h"
#include "tests/support/free_port.h"

namespace signpost::kafka {
namespace {

// No broker listens on the port: a send must fail UNAVAILABLE within the delivery timeout,
// never hang and never report success.
TEST(KafkaProducerTest, UnreachableBrokerFailsUnavailableInTime) {
  ProducerOptions options;
  options.bootstrap = "127.0.0.1:" + std::to_string(testing::FreePort());
  options.delivery_timeout = absl::Milliseconds(1500);
  auto producer = KafkaProducer::Create(options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  OutgoingMessage message{"signpost.referral.received", "r-1", std::string("v"), {}};
  absl::Status status = (*producer)->Send(message);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST(KafkaProducerTest, BadSettingIsReported) {
  ProducerOptions options;
  options.bootstrap = "127.0.0.1:9";
  options.properties["no.such.setting"] = "1";
  auto producer = KafkaProducer::Create(options);
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(producer.status().message()), ::testing::HasSubstr("no.such.setting"));
}

}  // namespace
}  // namespace signpost::kafka
