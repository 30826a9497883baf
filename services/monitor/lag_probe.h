#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "signpost/v1/ops_service.pb.h"

namespace RdKafka {
class KafkaConsumer;
}

namespace signpost::monitor {

// A consumer group and the topics it reads (names without the deployment's prefix).
struct WatchedGroup {
  std::string group;
  std::vector<std::string> topics;
};

// The Signpost services' consumer groups (common/kafka/consumer_groups.h).
std::vector<WatchedGroup> ServiceGroups();

// Parses "GROUP=TOPIC[+TOPIC...]" as given on the command line.
absl::StatusOr<WatchedGroup> ParseWatchedGroup(const std::string& text);

// Lag of consumer groups: per partition, the group's committed offset against the high
// watermark. Reads offsets the way `kafka-consumer-groups --describe` does (an offset fetch for
// the group), without joining it.
class LagProbe {
 public:
  LagProbe(std::string bootstrap, std::map<std::string, std::string> properties, std::string prefix,
           std::vector<WatchedGroup> groups);
  ~LagProbe();

  absl::StatusOr<std::vector<v1::GroupLag>> Probe();

 private:
  absl::StatusOr<RdKafka::KafkaConsumer*> HandleFor(const std::string& group);

  std::string bootstrap_;
  std::map<std::string, std::string> properties_;
  std::string prefix_;
  std::vector<WatchedGroup> groups_;
  std::map<std::string, std::unique_ptr<RdKafka::KafkaConsumer>> handles_;
};

}  // namespace signpost::monitor
