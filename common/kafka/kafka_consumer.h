#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/client_statistics.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"

namespace signpost::kafka {

struct ConsumerOptions {
  std::string bootstrap;
  std::string group_id;
  std::vector<std::string> topics;  // full names
  std::string dead_letter_topic;    // full name
  std::string client_id = "signpost";
  size_t max_batch = 200;
  // A record larger than this (key and value) never reaches the handler: it goes to the
  // dead-letter topic with the reason, and the consumer goes on. Referrals are a few KB; a
  // FHIR bundle tens of KB.
  size_t max_record_bytes = 256 * 1024;
  // How long to gather a batch once its first message has arrived.
  absl::Duration max_batch_wait = absl::Milliseconds(20);
  // The broker answers a fetch once it holds fetch_min_bytes for it or fetch_wait has passed.
  absl::Duration fetch_wait = absl::Milliseconds(100);
  int fetch_min_bytes = 1;
  absl::Duration retry_backoff_initial = absl::Milliseconds(200);
  absl::Duration retry_backoff_max = absl::Seconds(30);
  absl::Duration session_timeout = absl::Seconds(10);
  absl::Duration auto_commit_interval = absl::Seconds(1);
  std::map<std::string, std::string> properties;  // extra librdkafka settings, applied last
  metrics::Registry* metrics = nullptr;           // optional
};

// A consumer-group member that hands batches to a BatchHandler and commits only what the
// handler finished: offsets are stored after success (and after a dead letter is acknowledged),
// committed periodically, on every revoke and on shutdown. A retried message rewinds its
// partition, which pauses with exponential backoff while the other partitions go on.
class KafkaConsumer {
 public:
  // `handler` and `dead_letters` must outlive the consumer.
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(ConsumerOptions options,
                                                               BatchHandler& handler,
                                                               Producer& dead_letters);
  ~KafkaConsumer();

  // Consumes until Stop(); then commits what is stored, leaves the group and returns.
  void Run();
  // Thread-safe; Run() returns after the batch in hand.
  void Stop();

  // Partitions currently assigned to this member, as (topic, partition).
  std::set<std::pair<std::string, int32_t>> Assignment() const;

 private:
  class Rebalancer;
  using Partition = std::pair<std::string, int32_t>;
  struct Paused {
    absl::Time resume_at;
    // Set while the rewind has not taken: the partition must not be resumed before it has,
    // or fetching would go on after the messages being retried.
    std::optional<int64_t> seek_to;
  };

  KafkaConsumer(ConsumerOptions options, BatchHandler& handler, Producer& dead_letters);
  std::vector<ConsumedMessage> Collect();
  std::vector<Outcome> HandleWithinLimits(const std::vector<ConsumedMessage>& batch);
  void ProcessBatch(std::vector<ConsumedMessage> batch);
  bool SendToDeadLetter(const ConsumedMessage& message, const std::string& reason);
  void Rewind(const ConsumedMessage& message, const std::string& reason);
  void ResumeDuePartitions();
  void OnAssigned(const std::vector<RdKafka::TopicPartition*>& partitions);
  void OnRevoked(const std::vector<RdKafka::TopicPartition*>& partitions);

  ConsumerOptions options_;
  BatchHandler& handler_;
  Producer& dead_letters_;
  std::unique_ptr<Rebalancer> rebalancer_;
  // Before the consumer: librdkafka calls them until the consumer is destroyed.
  std::unique_ptr<ClientEvents> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;

  mutable absl::Mutex mu_;
  std::set<Partition> assigned_ ABSL_GUARDED_BY(mu_);
  // Only touched by the Run() thread (rebalance callbacks run inside consume()).
  std::map<Partition, Paused> paused_;
  std::map<Partition, int> retry_attempts_;

  metrics::Counter* consumed_ = nullptr;
  metrics::Counter* retried_ = nullptr;
  metrics::Counter* dead_lettered_ = nullptr;
  metrics::Histogram* batch_seconds_ = nullptr;
};

}  // namespace signpost::kafka
