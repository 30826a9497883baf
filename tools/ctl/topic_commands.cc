// signpostctl topics tail | dlq list | dlq replay
#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/errors.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/rdkafka_config.h"
#include "common/kafka/rdkafka_message.h"
#include "common/kafka/topics.h"
#include "tools/ctl/commands.h"
#include "tools/ctl/dead_letter_replay.h"

namespace signpost::ctl {
namespace {

// One message as a JSON line: where it is, its key, headers, and the event decoded (or the
// bytes in base64 when they are not an event).
nlohmann::json Describe(const kafka::ConsumedMessage& m) {
  nlohmann::json out = {{"topic", m.topic},
                        {"partition", m.partition},
                        {"offset", m.offset},
                        {"key", m.key},
                        {"timestamp_ms", m.timestamp_ms}};
  for (const auto& h : m.headers) out["headers"][h.key] = h.value;
  auto event = events::ParseEvent(m);
  if (event.ok()) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(*event, &json);
    out["event"] = nlohmann::json::parse(json);
  } else if (m.value) {
    out["value_base64"] = absl::Base64Escape(*m.value);
  }
  return out;
}

// Reads `topic` from the beginning (or its end) without a group; stops at the end unless
// `follow`, or after `count` messages.
absl::Status Tail(const CtlContext& ctx, const std::string& topic, bool from_beginning, bool follow,
                  int count) {
  auto made = kafka::MakeConsumer({{"bootstrap.servers", ctx.kafka_bootstrap},
                                   {"group.id", "signpostctl-tail"},
                                   {"enable.auto.commit", "false"}},
                                  {}, "signpostctl");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = *std::move(made);
  std::string err;
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer.get(), topic, nullptr, err));
  if (auto code = consumer->metadata(false, handle.get(), &raw, 10000);
      code != RdKafka::ERR_NO_ERROR) {
    return kafka::KafkaStatus(code, absl::StrCat("metadata of ", topic));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  std::map<int32_t, int64_t> remaining;  // partition -> end offset still to reach
  for (const auto* t : *metadata->topics()) {
    if (t->err() != RdKafka::ERR_NO_ERROR) return kafka::KafkaStatus(t->err(), topic);
    for (const auto* p : *t->partitions()) {
      int64_t low = 0, high = 0;
      consumer->query_watermark_offsets(topic, p->id(), &low, &high, 10000);
      if (from_beginning && high > low) remaining[p->id()] = high;
      partitions.push_back(RdKafka::TopicPartition::create(
          topic, p->id(), from_beginning ? RdKafka::Topic::OFFSET_BEGINNING : high));
    }
  }
  consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  int printed = 0;
  while ((follow || !remaining.empty()) && (count <= 0 || printed < count)) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) return kafka::KafkaStatus(m->err(), topic);
    kafka::ConsumedMessage message = kafka::FromRdKafka(*m);
    std::cout << Describe(message).dump() << "\n" << std::flush;
    ++printed;
    if (auto it = remaining.find(message.partition);
        it != remaining.end() && message.offset + 1 >= it->second) {
      remaining.erase(it);
    }
  }
  consumer->close();
  return absl::OkStatus();
}

void NeedKafka(const CtlContext& ctx) {
  if (ctx.kafka_bootstrap.empty()) {
    std::fprintf(stderr,
                 "signpostctl: no Kafka bootstrap: give --kafka-bootstrap, set "
                 "SIGNPOST_KAFKA_BOOTSTRAP, or start the system with tools/run\n");
    std::exit(kUsage);
  }
}

}  // namespace

void AddTopicCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  struct TailArgs {
    std::string topic;
    bool from_beginning = false, follow = false;
    int count = 0;
  };
  auto tail = std::make_shared<TailArgs>();
  CLI::App* topics = app.add_subcommand("topics", "Signpost's Kafka topics")->require_subcommand(1);
  CLI::App* tail_cmd =
      topics->add_subcommand("tail", "Print a topic's messages as JSON lines, events decoded");
  tail_cmd->add_option("topic", tail->topic, "e.g. signpost.referral.matched (without prefix)")
      ->required();
  tail_cmd->add_flag("--from-beginning", tail->from_beginning, "Start at the oldest message");
  tail_cmd->add_flag("--follow,-f", tail->follow, "Keep printing new messages");
  tail_cmd->add_option("--count,-n", tail->count, "Stop after N messages");
  tail_cmd->callback([&ctx, &exit_code, tail] {
    NeedKafka(ctx);
    if (!kafka::TopicFromName(ctx.topic_prefix + tail->topic, ctx.topic_prefix)) {
      std::fprintf(stderr, "signpostctl: '%s' is not a Signpost topic; they are:\n",
                   tail->topic.c_str());
      for (const auto& spec : kafka::AllTopics()) {
        std::fprintf(stderr, "  %s\n", std::string(spec.name).c_str());
      }
      exit_code = kUsage;
      return;
    }
    bool follow = tail->follow || !tail->from_beginning;
    exit_code =
        Report(Tail(ctx, ctx.topic_prefix + tail->topic, tail->from_beginning, follow, tail->count),
               "topics tail");
  });

  auto replay = std::make_shared<ReplayOptions>();
  CLI::App* dlq = app.add_subcommand("dlq", "Dead letters")->require_subcommand(1);
  CLI::App* list = dlq->add_subcommand("list", "Every dead letter with its source and reason");
  list->callback([&ctx, &exit_code] {
    NeedKafka(ctx);
    exit_code = Report(Tail(ctx, kafka::TopicName(kafka::Topic::kDeadletter, ctx.topic_prefix),
                            /*from_beginning=*/true, /*follow=*/false, 0),
                       "dlq list");
  });
  CLI::App* replay_cmd = dlq->add_subcommand(
      "replay",
      "Put dead letters back on their source topics once the cause is fixed; each goes back once");
  replay_cmd->add_option("--source-topic", replay->source_topic,
                         "Only letters from this topic (without prefix)");
  replay_cmd->add_option("--reason", replay->reason, "Only letters whose reason contains this");
  replay_cmd->add_flag("--dry-run", replay->dry_run, "List what would go back; change nothing");
  replay_cmd->callback([&ctx, &exit_code, replay] {
    NeedKafka(ctx);
    replay->bootstrap = ctx.kafka_bootstrap;
    replay->prefix = ctx.topic_prefix;
    kafka::ProducerOptions producer_options;
    producer_options.bootstrap = ctx.kafka_bootstrap;
    producer_options.client_id = "signpostctl";
    auto producer = kafka::KafkaProducer::Create(producer_options);
    if (!producer.ok()) {
      exit_code = Report(producer.status(), "dlq replay");
      return;
    }
    auto result =
        ReplayDeadLetters(*replay, **producer, [](const kafka::ConsumedMessage& m, bool replayed) {
          nlohmann::json line = Describe(m);
          line["replayed"] = replayed;
          std::cout << line.dump() << "\n";
        });
    if (!result.ok()) {
      exit_code = Report(result.status(), "dlq replay");
      return;
    }
    std::cerr << result->replayed << " replayed, " << result->held_back << " left\n";
  });
}

}  // namespace signpost::ctl
