#include "common/process/service_setup.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/topics.h"
#include "common/logging/logging.h"

namespace signpost {

absl::Status PrepareService(const std::string& service, const CommonConfig& config) {
  if (absl::Status s = ValidateCommonConfig(config); !s.ok()) return s;
  if (absl::Status s = InitLogging(service, config.log_format, config.log_level); !s.ok()) {
    return s;
  }
  for (const auto& [name, value] : DescribeCommonConfig(config)) {
    spdlog::info("config {} = {}", name, value);
  }
  return absl::OkStatus();
}

kafka::ProducerOptions ProducerOptionsFrom(const CommonConfig& config, const std::string& service) {
  kafka::ProducerOptions options;
  options.bootstrap = config.kafka_bootstrap;
  options.client_id = absl::StrCat(service, "/", InstanceIdOrDefault(config));
  options.properties = config.kafka_properties;
  return options;
}

kafka::ConsumerOptions ConsumerOptionsFrom(const CommonConfig& config, const std::string& group,
                                           std::vector<std::string> topics,
                                           metrics::Registry* metrics) {
  kafka::ConsumerOptions options;
  options.bootstrap = config.kafka_bootstrap;
  options.group_id = absl::StrCat(config.topic_prefix, group);
  options.topics = std::move(topics);
  options.dead_letter_topic = kafka::TopicName(kafka::Topic::kDeadletter, config.topic_prefix);
  options.client_id = absl::StrCat(group, "/", InstanceIdOrDefault(config));
  options.properties = config.kafka_properties;
  options.metrics = metrics;
  return options;
}

void ConsumerThreads::Start(std::unique_ptr<kafka::KafkaConsumer> consumer) {
  kafka::KafkaConsumer* raw = consumer.get();
  consumers_.push_back(std::move(consumer));
  threads_.emplace_back([raw] { raw->Run(); });
}

void ConsumerThreads::StopAll() {
  for (auto& consumer : consumers_) consumer->Stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  consumers_.clear();
}

}  // namespace signpost
