#include "tools/ctl/dead_letter_replay.h"

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/errors.h"
#include "common/kafka/rdkafka_config.h"
#include "common/kafka/rdkafka_message.h"
#include "common/kafka/topics.h"

namespace signpost::ctl {

absl::StatusOr<ReplayResult> ReplayDeadLetters(
    const ReplayOptions& options, kafka::Producer& producer,
    const std::function<void(const kafka::ConsumedMessage&, bool replayed)>& report) {
  auto made = kafka::MakeConsumer(
      {
          {"bootstrap.servers", options.bootstrap},
          {"group.id", options.prefix + options.group},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"auto.offset.reset", "earliest"},
      },
      options.properties, "dlq replay");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = *std::move(made);
  const std::string dlq = kafka::TopicName(kafka::Topic::kDeadletter, options.prefix);
  if (auto code = consumer->subscribe({dlq}); code != RdKafka::ERR_NO_ERROR) {
    return kafka::KafkaStatus(code, "subscribing to the dead letters");
  }
  ReplayResult result;
  std::set<int32_t> held;  // partitions where a letter was left behind
  const absl::Time start = absl::Now();
  absl::Time last = start;
  absl::Status failure;
  bool assigned = false;
  while (absl::Now() - last < options.idle) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (!assigned) {
      // Idle time counts once the group has given this replay its partitions.
      std::vector<RdKafka::TopicPartition*> partitions;
      consumer->assignment(partitions);
      assigned = !partitions.empty();
      RdKafka::TopicPartition::destroy(partitions);
      if (!assigned) {
        last = absl::Now();
        if (last - start > absl::Seconds(30)) {
          failure = absl::UnavailableError("joining the replay group took over 30 s");
          break;
        }
      }
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      failure = kafka::KafkaStatus(m->err(), "reading the dead letters");
      break;
    }
    last = absl::Now();
    kafka::ConsumedMessage letter = kafka::FromRdKafka(*m);
    auto source = kafka::FindHeader(letter.headers, kafka::kHeaderDeadLetterTopic);
    auto reason = kafka::FindHeader(letter.headers, kafka::kHeaderDeadLetterReason);
    std::string source_name = source ? std::string(*source) : "";
    bool wanted =
        source.has_value() && absl::StartsWith(source_name, options.prefix) &&
        (options.source_topic.empty() || source_name == options.prefix + options.source_topic) &&
        (options.reason.empty() || (reason && absl::StrContains(*reason, options.reason)));
    if (!wanted || held.count(letter.partition) || options.dry_run) {
      if (!options.dry_run) held.insert(letter.partition);
      ++result.held_back;
      report(letter, false);
      continue;
    }
    kafka::OutgoingMessage again{source_name, letter.key, letter.value, {}};
    for (const auto& h : letter.headers) {
      if (!absl::StartsWith(h.key, "dlq-")) again.headers.push_back(h);
    }
    again.headers.push_back(
        {"dlq-replayed-from", absl::StrCat(dlq, "/", letter.partition, "@", letter.offset)});
    if (absl::Status sent = producer.Send(again); !sent.ok()) {
      failure = sent;
      break;
    }
    // Remembered only once the broker has it back on its source topic.
    std::vector<RdKafka::TopicPartition*> position = {
        RdKafka::TopicPartition::create(dlq, letter.partition, letter.offset + 1)};
    auto code = consumer->commitSync(position);
    RdKafka::TopicPartition::destroy(position);
    if (code != RdKafka::ERR_NO_ERROR) {
      failure = kafka::KafkaStatus(code, "remembering the replay");
      break;
    }
    ++result.replayed;
    report(letter, true);
  }
  consumer->close();
  if (!failure.ok()) return failure;
  return result;
}

}  // namespace signpost::ctl
