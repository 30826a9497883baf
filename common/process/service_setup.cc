#include "common/process/service_setup.h"

#include "common/process/port_file.h"
#include "common/process/process_tuning.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/topics.h"
#include "common/logging/logging.h"

namespace signpost {

absl::Status PrepareService(const std::string& service, const CommonConfig& config) {
  TuneProcess();
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

kafka::ConsumerOptions ConsumerOptionsFor(const CommonConfig& config, kafka::ConsumerGroup group,
                                          metrics::Registry* metrics) {
  const kafka::ConsumerGroupSpec& spec = kafka::SpecOf(group);
  std::vector<std::string> topics;
  for (kafka::Topic topic : spec.topics) {
    topics.push_back(kafka::TopicName(topic, config.topic_prefix));
  }
  kafka::ConsumerOptions options =
      ConsumerOptionsFrom(config, std::string(spec.name), std::move(topics), metrics);
  if (spec.fetching == kafka::Fetching::kGathered) {
    options.fetch_wait = absl::Milliseconds(kafka::kGatheredFetchWaitMs);
    options.fetch_min_bytes = kafka::kGatheredFetchMinBytes;
  }
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

absl::StatusOr<int> StartMetricsEndpoint(metrics::HttpEndpoint& http, const CommonConfig& config) {
  auto port = http.Start(config.metrics_listen, config.tls);
  if (!port.ok()) return port.status();
  if (!config.metrics_port_file.empty()) {
    if (absl::Status s = WritePortFile(config.metrics_port_file, *port); !s.ok()) return s;
  }
  return port;
}

absl::Status ConsumerThreads::Start(kafka::ConsumerOptions options, kafka::BatchHandler& handler,
                                    kafka::Producer& dead_letters, int members) {
  for (int i = 0; i < members; ++i) {
    auto consumer = kafka::KafkaConsumer::Create(options, handler, dead_letters);
    if (!consumer.ok()) return consumer.status();
    Start(*std::move(consumer));
  }
  return absl::OkStatus();
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
