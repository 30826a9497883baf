#include "services/monitor/lag_probe.h"

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <utility>

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

namespace {

using PartitionKey = std::pair<std::string, int32_t>;

// One end of every partition given: a single request to the broker that leads them (offsets
// "for times" with the special time of the end), rather than one per partition.
absl::StatusOr<std::map<PartitionKey, int64_t>> EndsOf(
    RdKafka::KafkaConsumer& handle, const std::map<std::string, std::vector<int32_t>>& partitions,
    int64_t which) {
  std::vector<RdKafka::TopicPartition*> query;
  for (const auto& [topic, ids] : partitions) {
    for (int32_t id : ids) query.push_back(RdKafka::TopicPartition::create(topic, id, which));
  }
  std::map<PartitionKey, int64_t> out;
  if (query.empty()) return out;
  auto code = handle.offsetsForTimes(query, 5000);
  absl::Status status;
  if (code != RdKafka::ERR_NO_ERROR) status = kafka::KafkaStatus(code, "partition offsets");
  for (const auto* p : query) {
    if (status.ok() && p->err() != RdKafka::ERR_NO_ERROR) {
      status = kafka::KafkaStatus(p->err(),
                                  absl::StrCat("offsets of ", p->topic(), "/", p->partition()));
    }
    out[{p->topic(), p->partition()}] = p->offset();
  }
  RdKafka::TopicPartition::destroy(query);
  if (!status.ok()) return status;
  return out;
}

}  // namespace

absl::StatusOr<std::vector<v1::GroupLag>> LagProbe::Probe() {
  std::vector<v1::GroupLag> out;
  if (groups_.empty()) return out;
  auto any = HandleFor(prefix_ + groups_.front().group);
  if (!any.ok()) return any.status();
  // Each watched topic's partitions once, however many groups read it.
  std::map<std::string, std::vector<int32_t>> partitions;
  for (const WatchedGroup& watched : groups_) {
    for (const std::string& short_topic : watched.topics) {
      std::string topic = prefix_ + short_topic;
      if (partitions.contains(topic)) continue;
      RdKafka::Metadata* raw = nullptr;
      std::string err;
      std::unique_ptr<RdKafka::Topic> topic_handle(
          RdKafka::Topic::create(*any, topic, nullptr, err));
      if (auto code = (*any)->metadata(false, topic_handle.get(), &raw, 5000);
          code != RdKafka::ERR_NO_ERROR) {
        return kafka::KafkaStatus(code, absl::StrCat("metadata of ", topic));
      }
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      auto& ids = partitions[topic];
      for (const auto* t : *metadata->topics()) {
        for (const auto* p : *t->partitions()) ids.push_back(p->id());
      }
    }
  }
  auto high = EndsOf(**any, partitions, RdKafka::Topic::OFFSET_END);
  if (!high.ok()) return high.status();
  auto low = EndsOf(**any, partitions, RdKafka::Topic::OFFSET_BEGINNING);
  if (!low.ok()) return low.status();

  for (const WatchedGroup& watched : groups_) {
    std::string group = prefix_ + watched.group;
    auto handle = HandleFor(group);
    if (!handle.ok()) return handle.status();
    // The group's committed offsets on all its topics in one request.
    std::vector<RdKafka::TopicPartition*> committed;
    for (const std::string& short_topic : watched.topics) {
      for (int32_t id : partitions[prefix_ + short_topic]) {
        committed.push_back(RdKafka::TopicPartition::create(prefix_ + short_topic, id));
      }
    }
    if (!committed.empty()) {
      if (auto code = (*handle)->committed(committed, 5000); code != RdKafka::ERR_NO_ERROR) {
        RdKafka::TopicPartition::destroy(committed);
        return kafka::KafkaStatus(code, absl::StrCat("committed offsets of ", group));
      }
    }
    for (const std::string& short_topic : watched.topics) {
      std::string topic = prefix_ + short_topic;
      v1::GroupLag lag;
      lag.set_group(watched.group);
      lag.set_topic(short_topic);
      for (const auto* p : committed) {
        if (p->topic() != topic) continue;
        PartitionKey key{topic, p->partition()};
        int64_t end = (*high)[key];
        v1::PartitionLag* part = lag.add_partitions();
        part->set_partition(p->partition());
        bool has_committed = p->offset() >= 0;
        part->set_committed(has_committed ? p->offset() : -1);
        part->set_end(end);
        part->set_lag(std::max<int64_t>(0, end - (has_committed ? p->offset() : (*low)[key])));
        lag.set_total_lag(lag.total_lag() + part->lag());
      }
      std::sort(lag.mutable_partitions()->begin(), lag.mutable_partitions()->end(),
                [](const auto& a, const auto& b) { return a.partition() < b.partition(); });
      out.push_back(std::move(lag));
    }
    RdKafka::TopicPartition::destroy(committed);
  }
  return out;
}

}  // namespace signpost::monitor
