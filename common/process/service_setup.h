#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/config/common_config.h"
#include "common/kafka/consumer_groups.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/metrics/http_endpoint.h"

namespace signpost {

// Start-up shared by every service: logging in the configured format, the configuration checked
// (all problems in one message) and logged without secrets.
absl::Status PrepareService(const std::string& service, const CommonConfig& config);

// Producer and consumer settings from the common configuration.
kafka::ProducerOptions ProducerOptionsFrom(const CommonConfig& config, const std::string& service);
kafka::ConsumerOptions ConsumerOptionsFrom(const CommonConfig& config, const std::string& group,
                                           std::vector<std::string> topics,
                                           metrics::Registry* metrics);
// The same for one of the services' groups (common/kafka/consumer_groups.h).
kafka::ConsumerOptions ConsumerOptionsFor(const CommonConfig& config, kafka::ConsumerGroup group,
                                          metrics::Registry* metrics);

// Starts the metrics and health endpoint on --metrics-listen and writes its port to
// --metrics-port-file when one is given.
absl::StatusOr<int> StartMetricsEndpoint(metrics::HttpEndpoint& http, const CommonConfig& config);

// Runs consumers on threads of their own; StopAll() asks each to stop, and waits until each
// has committed and left its group.
class ConsumerThreads {
 public:
  ~ConsumerThreads() { StopAll(); }
  void Start(std::unique_ptr<kafka::KafkaConsumer> consumer);
  // Creates `members` consumers of the same group (the handler must be thread-safe when more
  // than one) and starts them.
  absl::Status Start(kafka::ConsumerOptions options, kafka::BatchHandler& handler,
                     kafka::Producer& dead_letters, int members = 1);
  void StopAll();

 private:
  std::vector<std::unique_ptr<kafka::KafkaConsumer>> consumers_;
  std::vector<std::thread> threads_;
};

}  // namespace signpost
