#include "services/monitor/lag_probe.h"

#include <librdkafka/rdkafkacpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/kafka/consumer_groups.h"
#include "common/kafka/errors.h"
#include "common/kafka/rdkafka_config.h"
#include "common/kafka/topics.h"

namespace signpost::monitor {

std::vector<WatchedGroup> ServiceGroups() {
  std::vector<WatchedGroup> out;
  for (const auto& spec : kafka::AllConsumerGroups()) {
    WatchedGroup watched{std::string(spec.name), {}};
    for (kafka::Topic topic : spec.topics) watched.topics.push_back(kafka::TopicName(topic, ""));
    out.push_back(std::move(watched));
  }
  return out;
}

absl::StatusOr<WatchedGroup> ParseWatchedGroup(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('=', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("group '", text, "': expected GROUP=TOPIC[+TOPIC...]"));
  }
  WatchedGroup watched{parts[0], absl::StrSplit(parts[1], '+', absl::SkipEmpty())};
  return watched;
}

LagProbe::LagProbe(std::string bootstrap, std::map<std::string, std::string> properties,
                   std::string prefix, std::vector<WatchedGroup> groups)
    : bootstrap_(std::move(bootstrap)),
      properties_(std::move(properties)),
      prefix_(std::move(prefix)),
      groups_(std::move(groups)) {}

LagProbe::~LagProbe() {
  for (auto& [group, handle] : handles_) handle->close();
}

absl::StatusOr<RdKafka::KafkaConsumer*> LagProbe::HandleFor(const std::string& group) {
  auto it = handles_.find(group);
  if (it != handles_.end()) return it->second.get();
  auto made = kafka::MakeConsumer(
      {{"bootstrap.servers", bootstrap_}, {"group.id", group}, {"enable.auto.commit", "false"}},
      properties_, "lag probe");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::KafkaConsumer> handle = *std::move(made);
  RdKafka::KafkaConsumer* raw = handle.get();
  handles_[group] = std::move(handle);
  return raw;
}

absl::StatusOr<std::vector<v1::GroupLag>> LagProbe::Probe() {
  std::vector<v1::GroupLag> out;
  for (const WatchedGroup& watched : groups_) {
    std::string group = prefix_ + watched.group;
    auto handle = HandleFor(group);
    if (!handle.ok()) return handle.status();
    for (const std::string& short_topic : watched.topics) {
      std::string topic = prefix_ + short_topic;
      RdKafka::Metadata* raw = nullptr;
      std::string err;
      std::unique_ptr<RdKafka::Topic> topic_handle(
          RdKafka::Topic::create(*handle, topic, nullptr, err));
      if (auto code = (*handle)->metadata(false, topic_handle.get(), &raw, 5000);
          code != RdKafka::ERR_NO_ERROR) {
        return kafka::KafkaStatus(code, absl::StrCat("metadata of ", topic));
      }
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      std::vector<RdKafka::TopicPartition*> partitions;
      for (const auto* t : *metadata->topics()) {
        for (const auto* p : *t->partitions()) {
          partitions.push_back(RdKafka::TopicPartition::create(topic, p->id()));
        }
      }
      auto code = (*handle)->committed(partitions, 5000);
      if (code != RdKafka::ERR_NO_ERROR) {
        RdKafka::TopicPartition::destroy(partitions);
        return kafka::KafkaStatus(code, absl::StrCat("committed offsets of ", group));
      }
      v1::GroupLag lag;
      lag.set_group(watched.group);
      lag.set_topic(short_topic);
      for (auto* p : partitions) {
        int64_t low = 0, high = 0;
        code = (*handle)->query_watermark_offsets(topic, p->partition(), &low, &high, 5000);
        if (code != RdKafka::ERR_NO_ERROR) {
          RdKafka::TopicPartition::destroy(partitions);
          return kafka::KafkaStatus(code, absl::StrCat("end offsets of ", topic));
        }
        v1::PartitionLag* part = lag.add_partitions();
        part->set_partition(p->partition());
        bool committed = p->offset() >= 0;
        part->set_committed(committed ? p->offset() : -1);
        part->set_end(high);
        part->set_lag(std::max<int64_t>(0, high - (committed ? p->offset() : low)));
        lag.set_total_lag(lag.total_lag() + part->lag());
      }
      RdKafka::TopicPartition::destroy(partitions);
      std::sort(lag.mutable_partitions()->begin(), lag.mutable_partitions()->end(),
                [](const auto& a, const auto& b) { return a.partition() < b.partition(); });
      out.push_back(std::move(lag));
    }
  }
  return out;
}

}  // namespace signpost::monitor
