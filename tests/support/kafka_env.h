#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/kafka/topics.h"

namespace signpost::testing {

// The local Kafka that the ctest fixture started (tools/kafka start --dir $SIGNPOST_TEST_KAFKA_DIR)
// and a topic prefix of the test's own, with every Signpost topic created under it.
struct KafkaEnv {
  std::string bootstrap;
  std::string prefix;

  std::string Topic(kafka::Topic topic) const { return kafka::TopicName(topic, prefix); }
  // A consumer group name unique to this test.
  std::string Group(const std::string& name) const { return prefix + name; }
};

absl::StatusOr<KafkaEnv> MakeKafkaEnv();

// Where the local Kafka's CLI wrapper is (tools/kafka in the source tree).
std::string KafkaTool();

}  // namespace signpost::testing
