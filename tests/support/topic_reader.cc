#include "tests/support/topic_reader.h"

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signpost::testing {

absl::StatusOr<std::vector<kafka::ConsumedMessage>> ReadTopic(const std::string& bootstrap,
                                                              const std::string& topic) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "unused-reader", err);
  conf->set("enable.auto.commit", "false", err);
  conf->set("enable.partition.eof", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) return absl::InternalError(err);

  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer.get(), topic, nullptr, err));
  if (consumer->metadata(false, handle.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR || !raw) {
    return absl::UnavailableError(absl::StrCat("no metadata for ", topic));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  std::map<int32_t, int64_t> end;
  for (const auto* t : *metadata->topics()) {
    for (const auto* p : *t->partitions()) {
      int64_t low = 0, high = 0;
      consumer->query_watermark_offsets(topic, p->id(), &low, &high, 10000);
      if (high > low) end[p->id()] = high;
      partitions.push_back(
          RdKafka::TopicPartition::create(topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);

  std::vector<kafka::ConsumedMessage> out;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!end.empty() && absl::Now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    kafka::ConsumedMessage c;
    c.topic = m->topic_name();
    c.partition = m->partition();
    c.offset = m->offset();
    if (m->key()) c.key = *m->key();
    if (m->payload()) c.value.emplace(static_cast<const char*>(m->payload()), m->len());
    if (auto* headers = m->headers()) {
      for (const auto& h : headers->get_all()) {
        c.headers.push_back(
            {h.key(),
             h.value() ? std::string(static_cast<const char*>(h.value()), h.value_size()) : ""});
      }
    }
    out.push_back(std::move(c));
    if (auto it = end.find(m->partition()); it != end.end() && m->offset() + 1 >= it->second) {
      end.erase(it);
    }
  }
  consumer->close();
  if (!end.empty())
    return absl::DeadlineExceededError(absl::StrCat("could not read all of ", topic));
  return out;
}

}  // namespace signpost::testing
