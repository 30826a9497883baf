#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/producer.h"

namespace signpost::kafka {

struct ProducerOptions {
  std::string bootstrap;
  std::string client_id = "signpost";
  // How long a send may wait for the broker's acknowledgement before it fails UNAVAILABLE.
  absl::Duration delivery_timeout = absl::Seconds(30);
  absl::Duration linger = absl::Milliseconds(2);
  std::map<std::string, std::string> properties;  // extra librdkafka settings, applied last
};

// The librdkafka producer: idempotent, acks=all, delivery reports served by its own thread.
class KafkaProducer final : public Producer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const ProducerOptions& options);
  ~KafkaProducer() override;

  void SendAsync(OutgoingMessage message, DeliveryCallback done) override;

  // Waits until every message in flight has been delivered or failed.
  absl::Status Flush(absl::Duration timeout);

 private:
  class DeliveryReports;
  KafkaProducer(std::unique_ptr<DeliveryReports> reports,
                std::unique_ptr<RdKafka::Producer> producer, absl::Duration delivery_timeout);

  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  absl::Duration delivery_timeout_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace signpost::kafka
