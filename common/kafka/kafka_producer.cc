#include "common/kafka/kafka_producer.h"

#include "common/kafka/rdkafka_config.h"

#include <spdlog/spdlog.h>

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

class ProducerEvents final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.fatal()) {
      // The idempotent producer cannot go on (e.g. a broken sequence); every send fails from now
      // on, so say so loudly: the process has to be restarted.
      spdlog::critical("kafka producer: fatal error, restart this process: {}", event.str());
    } else {
      spdlog::warn("kafka producer: {}", event.str());
    }
  }
};

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const ProducerOptions& options) {
  static ProducerEvents events;
  auto reports = std::make_unique<DeliveryReports>();
  std::string err;
  auto made = MakeConf(
      {
          {"bootstrap.servers", options.bootstrap},
          {"client.id", options.client_id},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"message.timeout.ms",
           std::to_string(absl::ToInt64Milliseconds(options.delivery_timeout))},
          {"linger.ms", std::to_string(absl::ToInt64Milliseconds(options.linger))},
          {"compression.type", "lz4"},
      },
      options.properties, "kafka producer");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::Conf> conf = *std::move(made);
  if (conf->set("dr_cb", reports.get(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(&events), err) !=
          RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat("kafka producer callbacks: ", err));
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  return std::unique_ptr<KafkaProducer>(
      new KafkaProducer(std::move(reports), std::move(producer), options.delivery_timeout));
}

KafkaProducer::KafkaProducer(std::unique_ptr<DeliveryReports> reports,
                             std::unique_ptr<RdKafka::Producer> producer,
                             absl::Duration delivery_timeout)
    : reports_(std::move(reports)),
      producer_(std::move(producer)),
      delivery_timeout_(delivery_timeout) {
  poller_ = std::thread([this] {
    while (!stopping_.load()) producer_->poll(50);
  });
}

KafkaProducer::~KafkaProducer() {
  // Give messages in flight their chance; whatever is left fails its callback on destroy.
  producer_->flush(static_cast<int>(absl::ToInt64Milliseconds(delivery_timeout_)));
  stopping_.store(true);
  poller_.join();
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
}

void KafkaProducer::SendAsync(OutgoingMessage message, DeliveryCallback done) {
  auto* opaque = new DeliveryCallback(std::move(done));
  absl::Time deadline = absl::Now() + delivery_timeout_;
  while (true) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& h : message.headers) headers->add(h.key, h.value.data(), h.value.size());
    void* payload = message.value ? const_cast<char*>(message.value->data()) : nullptr;
    size_t payload_len = message.value ? message.value->size() : 0;
    RdKafka::ErrorCode code = producer_->produce(
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
  return KafkaStatus(producer_->flush(static_cast<int>(absl::ToInt64Milliseconds(timeout))),
                     "flushing the producer");
}

}  // namespace signpost::kafka
