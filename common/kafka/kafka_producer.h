#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/client_statistics.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"

namespace signpost::kafka {

struct ProducerOptions {
  std::string bootstrap;
  std::string client_id = "signpost";
  // How long a send may wait for the broker's acknowledgement before it fails UNAVAILABLE.
  absl::Duration delivery_timeout = absl::Seconds(30);
  absl::Duration linger = absl::Milliseconds(2);
  std::map<std::string, std::string> properties;  // extra librdkafka settings, applied last
  // Where the producer's statistics are counted (optional; see ClientStatistics).
  metrics::Registry* metrics = nullptr;
};

// The librdkafka producer: idempotent, acks=all, delivery reports served by its own thread.
// An idempotent producer that hits a fatal error (its sequence broken beyond repair, as after a
// whole cluster restarted under load) fails every send from then on; so it is replaced by a new
// one (a new producer id) on the spot. Sends in flight on the old one fail their callbacks, and
// their callers send them again as after any failure.
class KafkaProducer final : public Producer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const ProducerOptions& options);
  ~KafkaProducer() override;

  void SendAsync(OutgoingMessage message, DeliveryCallback done) override;

  // Waits until every message in flight has been delivered or failed.
  absl::Status Flush(absl::Duration timeout);

  // How many times a fatal error replaced the producer.
  int replacements() const { return replacements_.load(); }

  // Puts the producer in use into the fatal state a broken sequence would (librdkafka's hook for
  // tests; no broker can be made to do it on demand).
  absl::Status InjectFatalErrorForTesting();

 private:
  class DeliveryReports;
  KafkaProducer(const ProducerOptions& options, std::unique_ptr<DeliveryReports> reports);
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> MakeProducer();
  // The producer in use; held by each caller for its call, so a replacement never pulls it from
  // under one (and none holds a lock while librdkafka runs callbacks).
  std::shared_ptr<RdKafka::Producer> Current();
  // Called by the poller: swaps in a new producer when the current one is fatally broken.
  void ReplaceIfFatal();

  const ProducerOptions options_;
  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<ClientEvents> events_;
  absl::Mutex mu_;
  std::shared_ptr<RdKafka::Producer> producer_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> replacements_{0};
  // Poller thread only.
  absl::Time last_replacement_ = absl::InfinitePast();
  absl::Time next_replacement_ = absl::InfinitePast();
  absl::Duration replacement_backoff_ = absl::Seconds(1);
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace signpost::kafka
