#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/kafka/client_statistics.h"
#include "common/kafka/message.h"
#include "common/metrics/registry.h"

namespace RdKafka {
class KafkaConsumer;
}

namespace signpost::monitor {

struct TopicTailOptions {
  std::string bootstrap;
  std::vector<std::string> topics;  // full names
  absl::Duration look_back = absl::Hours(24);
  // Compacted topics (the directory) are read whole: what they hold is current, however old.
  std::set<std::string> from_beginning;  // full names
  // Topics read from further back than `look_back` (full names).
  std::map<std::string, absl::Duration> longer_look_back;
  std::map<std::string, std::string> properties;
  // Where the consumer's statistics are counted (optional; see kafka::ClientStatistics).
  metrics::Registry* metrics = nullptr;
};

// Reads topics from `look_back` ago onwards without a consumer group: no offsets committed, no
// rebalances, never in a service's way. A restart reads the look-back again, which is how the
// monitor rebuilds its figures without a database.
class TopicTail {
 public:
  TopicTail(TopicTailOptions options, std::function<void(const kafka::ConsumedMessage&)> observe);
  ~TopicTail();

  absl::Status Start();
  void Stop();

 private:
  TopicTailOptions options_;
  std::function<void(const kafka::ConsumedMessage&)> observe_;
  std::unique_ptr<kafka::ClientEvents> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace signpost::monitor
