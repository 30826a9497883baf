#include "services/monitor/topic_tail.h"

#include <algorithm>

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/consumer_groups.h"
#include "common/kafka/errors.h"
#include "common/kafka/rdkafka_config.h"
#include "common/kafka/rdkafka_message.h"

namespace signpost::monitor {
namespace {

bool NotThereYet(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART || code == RdKafka::ERR_LEADER_NOT_AVAILABLE ||
         code == RdKafka::ERR_NOT_LEADER_FOR_PARTITION;
}

}  // namespace

TopicTail::TopicTail(TopicTailOptions options,
                     std::function<void(const kafka::ConsumedMessage&)> observe)
    : options_(std::move(options)), observe_(std::move(observe)) {}

TopicTail::~TopicTail() { Stop(); }

absl::Status TopicTail::Start() {
  if (!events_)
    events_ = std::make_unique<kafka::ClientEvents>(options_.metrics, "consumer", "monitor");
  auto consumer = kafka::MakeConsumer(
      {
          {"bootstrap.servers", options_.bootstrap},
          // assign() needs a group id; nothing is ever committed or joined under it.
          {"group.id", "signpost-monitor-tail"},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", "false"},
          // What the monitor shows is not on any referral's way: it gathers, as the views do.
          {"fetch.wait.max.ms", std::to_string(kafka::kGatheredFetchWaitMs)},
          {"fetch.min.bytes", std::to_string(kafka::kGatheredFetchMinBytes)},
          {"statistics.interval.ms", events_->StatisticsIntervalMs()},
      },
      options_.properties, "monitor", events_.get());
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  std::string err;

  const absl::Time now = absl::Now();
  auto since_of = [&](const std::string& topic) {
    auto longer = options_.longer_look_back.find(topic);
    return absl::ToUnixMillis(now -
                              std::max(options_.look_back, longer == options_.longer_look_back.end()
                                                               ? options_.look_back
                                                               : longer->second));
  };
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const std::string& topic : options_.topics) {
    std::unique_ptr<RdKafka::Topic> handle(
        RdKafka::Topic::create(consumer_.get(), topic, nullptr, err));
    // A topic created moments ago may not be known to every broker yet: wait a little.
    std::unique_ptr<RdKafka::Metadata> metadata;
    RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
    for (int attempt = 0; attempt < 50; ++attempt) {
      RdKafka::Metadata* raw = nullptr;
      code = consumer_->metadata(false, handle.get(), &raw, 10000);
      metadata.reset(raw);
      if (code == RdKafka::ERR_NO_ERROR) {
        for (const auto* t : *metadata->topics()) code = t->err();
      }
      if (!NotThereYet(code)) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    if (code != RdKafka::ERR_NO_ERROR) {
      RdKafka::TopicPartition::destroy(partitions);
      return kafka::KafkaStatus(code, absl::StrCat("metadata of ", topic));
    }
    for (const auto* t : *metadata->topics()) {
      for (const auto* p : *t->partitions()) {
        partitions.push_back(RdKafka::TopicPartition::create(topic, p->id(), since_of(topic)));
      }
    }
  }
  // Timestamps to offsets: the first message at or after `since` (the end when none is).
  RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
  for (int attempt = 0; attempt < 50; ++attempt) {
    for (auto* p : partitions) p->set_offset(since_of(p->topic()));
    code = consumer_->offsetsForTimes(partitions, 10000);
    if (!NotThereYet(code)) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  if (code != RdKafka::ERR_NO_ERROR) {
    RdKafka::TopicPartition::destroy(partitions);
    return kafka::KafkaStatus(code, "offsets for the look-back");
  }
  for (auto* p : partitions) {
    if (options_.from_beginning.count(p->topic())) {
      p->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    } else if (p->offset() < 0) {
      p->set_offset(RdKafka::Topic::OFFSET_END);
    }
  }
  code = consumer_->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (code != RdKafka::ERR_NO_ERROR) return kafka::KafkaStatus(code, "assign");
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
      if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        spdlog::warn("reading the topics: {}", m->errstr());
        continue;
      }
      observe_(kafka::FromRdKafka(*m));
    }
  });
  return absl::OkStatus();
}

void TopicTail::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (consumer_) {
    consumer_->close();
    consumer_.reset();
  }
}

}  // namespace signpost::monitor
