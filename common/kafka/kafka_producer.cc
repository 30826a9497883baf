#include "common/kafka/kafka_producer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/kafka/rdkafka_config.h"

#include "absl/strings/str_cat.h"
#include "common/kafka/errors.h"

namespace signpost::kafka {

class KafkaProducer::DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<DeliveryCallback> done(static_cast<DeliveryCallback*>(message.msg_opaque()));
    if (!done) return;
    (*done)(KafkaStatus(message.err(), absl::StrCat("delivering to ", message.topic_name())));
  }
};

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const ProducerOptions& options) {
  std::unique_ptr<KafkaProducer> producer(
      new KafkaProducer(options, std::make_unique<DeliveryReports>()));
  auto made = producer->MakeProducer();
  if (!made.ok()) return made.status();
  {
    absl::MutexLock lock(&producer->mu_);
    producer->producer_ = *std::move(made);
  }
  KafkaProducer* self = producer.get();
  producer->poller_ = std::thread([self] {
    while (!self->stopping_.load()) {
      self->Current()->poll(50);
      self->ReplaceIfFatal();
    }
  });
  return producer;
}

KafkaProducer::KafkaProducer(const ProducerOptions& options,
                             std::unique_ptr<DeliveryReports> reports)
    : options_(options),
      reports_(std::move(reports)),
      // A fatal error replaces the producer (ReplaceIfFatal); the event says so in the log.
      events_(std::make_unique<ClientEvents>(options.metrics, "producer", "kafka producer")) {}

absl::StatusOr<std::unique_ptr<RdKafka::Producer>> KafkaProducer::MakeProducer() {
  std::string err;
  auto made = MakeConf(
      {
          {"bootstrap.servers", options_.bootstrap},
          {"client.id", options_.client_id},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"message.timeout.ms",
           std::to_string(absl::ToInt64Milliseconds(options_.delivery_timeout))},
          {"linger.ms", std::to_string(absl::ToInt64Milliseconds(options_.linger))},
          {"compression.type", "lz4"},
          {"statistics.interval.ms", events_->StatisticsIntervalMs()},
      },
      options_.properties, "kafka producer");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::Conf> conf = *std::move(made);
  if (conf->set("dr_cb", reports_.get(), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat("kafka producer delivery callback: ", err));
  }
  if (absl::Status set = events_->SetOn(*conf); !set.ok()) return set;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  return producer;
}

std::shared_ptr<RdKafka::Producer> KafkaProducer::Current() {
  absl::MutexLock lock(&mu_);
  return producer_;
}

void KafkaProducer::ReplaceIfFatal() {
  std::string reason;
  if (Current()->fatal_error(reason) == RdKafka::ERR_NO_ERROR) return;
  // A cause that outlives a new producer too (say, a setting the cluster refuses) is retried
  // with backoff rather than every poll.
  const absl::Time now = absl::Now();
  if (now < next_replacement_) return;
  replacement_backoff_ = now - last_replacement_ < absl::Minutes(1)
                             ? std::min(replacement_backoff_ * 2, absl::Seconds(30))
                             : absl::Seconds(1);
  last_replacement_ = now;
  next_replacement_ = now + replacement_backoff_;
  auto fresh = MakeProducer();
  if (!fresh.ok()) {  // the same settings worked before: try again on the next round
    spdlog::error("kafka producer: replacing a fatally failed producer: {}",
                  fresh.status().ToString());
    return;
  }
  std::shared_ptr<RdKafka::Producer> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(producer_, std::shared_ptr<RdKafka::Producer>(*std::move(fresh)));
  }
  replacements_.fetch_add(1);
  spdlog::warn(
      "kafka producer replaced after a fatal error ({}); sends in flight on the old one "
      "fail and are sent again by their callers",
      reason);
  // Acknowledgements already on their way still count (sending those again would write them
  // twice); what the old one holds after that fails its callbacks.
  old->flush(2000);
  old->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  old->poll(0);
}

absl::Status KafkaProducer::InjectFatalErrorForTesting() {
  rd_kafka_resp_err_t err = rd_kafka_test_fatal_error(
      Current()->c_ptr(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected by a test");
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? absl::OkStatus()
                                           : absl::FailedPreconditionError(rd_kafka_err2str(err));
}

KafkaProducer::~KafkaProducer() {
  stopping_.store(true);
  if (poller_.joinable()) poller_.join();
  std::shared_ptr<RdKafka::Producer> producer = Current();
  if (!producer) return;
  // Give messages in flight their chance; whatever is left fails its callback.
  producer->flush(static_cast<int>(absl::ToInt64Milliseconds(options_.delivery_timeout)));
  producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer->poll(0);
}

void KafkaProducer::SendAsync(OutgoingMessage message, DeliveryCallback done) {
  auto* opaque = new DeliveryCallback(std::move(done));
  absl::Time deadline = absl::Now() + options_.delivery_timeout;
  while (true) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& h : message.headers) headers->add(h.key, h.value.data(), h.value.size());
    void* payload = message.value ? const_cast<char*>(message.value->data()) : nullptr;
    size_t payload_len = message.value ? message.value->size() : 0;
    RdKafka::ErrorCode code = Current()->produce(
        message.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, payload,
        payload_len, message.key.data(), message.key.size(), 0, headers, opaque);
    if (code == RdKafka::ERR_NO_ERROR) return;  // librdkafka owns the headers now
    delete headers;
    // A full local queue drains as deliveries complete: wait for room until the deadline.
    if (code == RdKafka::ERR__QUEUE_FULL && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    std::unique_ptr<DeliveryCallback> owned(opaque);
    (*owned)(KafkaStatus(code, absl::StrCat("producing to ", message.topic)));
    return;
  }
}

absl::Status KafkaProducer::Flush(absl::Duration timeout) {
  return KafkaStatus(Current()->flush(static_cast<int>(absl::ToInt64Milliseconds(timeout))),
                     "flushing the producer");
}

}  // namespace signpost::kafka
