#include "common/kafka/kafka_consumer.h"

#include "common/kafka/rdkafka_config.h"
#include "common/kafka/rdkafka_message.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/batch_plan.h"
#include "common/kafka/errors.h"

namespace signpost::kafka {

class KafkaConsumer::Rebalancer final : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(KafkaConsumer& owner) : owner_(owner) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      RdKafka::Error* error = nullptr;
      if (cooperative) {
        error = consumer->incremental_assign(partitions);
      } else {
        consumer->assign(partitions);
      }
      if (error) {
        spdlog::error("kafka consumer {}: assign failed: {}", owner_.options_.group_id,
                      error->str());
        delete error;
      }
      // A partition paused here for a retry before it was revoked keeps librdkafka's pause flag
      // across unassign: start every newly assigned partition unpaused.
      consumer->resume(partitions);
      owner_.OnAssigned(partitions);
    } else {
      owner_.OnRevoked(partitions);
      // Commit what was finished before the partitions go to another member.
      if (auto code = consumer->commitSync();
          code != RdKafka::ERR_NO_ERROR && code != RdKafka::ERR__NO_OFFSET) {
        spdlog::warn("kafka consumer {}: commit on revoke: {}", owner_.options_.group_id,
                     RdKafka::err2str(code));
      }
      if (cooperative) {
        if (RdKafka::Error* error = consumer->incremental_unassign(partitions)) {
          spdlog::error("kafka consumer {}: unassign failed: {}", owner_.options_.group_id,
                        error->str());
          delete error;
        }
      } else {
        consumer->unassign();
      }
    }
  }

 private:
  KafkaConsumer& owner_;
};

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(ConsumerOptions options,
                                                                     BatchHandler& handler,
                                                                     Producer& dead_letters) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: no group id");
  if (options.topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");
  if (options.dead_letter_topic.empty()) {
    return absl::InvalidArgumentError("kafka consumer: no dead-letter topic");
  }
  std::unique_ptr<KafkaConsumer> self(new KafkaConsumer(std::move(options), handler, dead_letters));
  const ConsumerOptions& o = self->options_;
  self->events_ = std::make_unique<ClientEvents>(o.metrics, "consumer", "kafka consumer");
  std::string err;
  Settings settings = {
      {"bootstrap.servers", o.bootstrap},
      {"group.id", o.group_id},
      {"client.id", o.client_id},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},
      {"auto.commit.interval.ms",
       std::to_string(absl::ToInt64Milliseconds(o.auto_commit_interval))},
      {"auto.offset.reset", "earliest"},
      {"session.timeout.ms", std::to_string(absl::ToInt64Milliseconds(o.session_timeout))},
      {"heartbeat.interval.ms",
       std::to_string(std::max<int64_t>(100, absl::ToInt64Milliseconds(o.session_timeout) / 5))},
      {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", std::to_string(absl::ToInt64Milliseconds(o.fetch_wait))},
      {"fetch.min.bytes", std::to_string(o.fetch_min_bytes)},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"statistics.interval.ms", self->events_->StatisticsIntervalMs()},
  };
  auto made = MakeConf(std::move(settings), o.properties, "kafka consumer");
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::Conf> conf = *std::move(made);
  self->rebalancer_ = std::make_unique<Rebalancer>(*self);
  if (conf->set("rebalance_cb", self->rebalancer_.get(), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat("kafka consumer rebalance callback: ", err));
  }
  if (absl::Status set = self->events_->SetOn(*conf); !set.ok()) return set;
  self->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!self->consumer_) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  if (auto code = self->consumer_->subscribe(o.topics); code != RdKafka::ERR_NO_ERROR) {
    return KafkaStatus(code, "subscribing");
  }
  if (o.metrics) {
    metrics::Labels labels = {{"group", o.group_id}};
    self->consumed_ = &o.metrics->GetCounter("signpost_kafka_consumed_total",
                                             "Messages handed to the handler", labels);
    self->retried_ = &o.metrics->GetCounter("signpost_kafka_retries_total",
                                            "Messages the handler asked to retry", labels);
    self->dead_lettered_ = &o.metrics->GetCounter("signpost_kafka_dead_letters_total",
                                                  "Messages sent to the dead-letter topic", labels);
    self->batch_seconds_ =
        &o.metrics->GetHistogram("signpost_kafka_batch_seconds", "Time the handler took per batch",
                                 metrics::LatencyBuckets(), labels);
  }
  return self;
}

KafkaConsumer::KafkaConsumer(ConsumerOptions options, BatchHandler& handler, Producer& dead_letters)
    : options_(std::move(options)), handler_(handler), dead_letters_(dead_letters) {}

KafkaConsumer::~KafkaConsumer() {
  if (consumer_ && !closed_) consumer_->close();
}

void KafkaConsumer::Stop() { stop_.store(true); }

std::set<std::pair<std::string, int32_t>> KafkaConsumer::Assignment() const {
  absl::MutexLock lock(&mu_);
  return assigned_;
}

void KafkaConsumer::OnAssigned(const std::vector<RdKafka::TopicPartition*>& partitions) {
  absl::MutexLock lock(&mu_);
  for (const auto* tp : partitions) assigned_.insert({tp->topic(), tp->partition()});
}

void KafkaConsumer::OnRevoked(const std::vector<RdKafka::TopicPartition*>& partitions) {
  absl::MutexLock lock(&mu_);
  for (const auto* tp : partitions) {
    Partition p{tp->topic(), tp->partition()};
    assigned_.erase(p);
    paused_.erase(p);
    retry_attempts_.erase(p);
  }
}

std::vector<ConsumedMessage> KafkaConsumer::Collect() {
  std::vector<ConsumedMessage> batch;
  absl::Time gather_until = absl::InfiniteFuture();
  while (batch.size() < options_.max_batch && !stop_.load()) {
    int wait_ms = 100;
    if (!batch.empty()) {
      wait_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(gather_until - absl::Now())));
    }
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait_ms));
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      if (batch.empty()) return batch;  // nothing came: let Run() check stop and resumes
      break;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("kafka consumer {}: {}", options_.group_id, m->errstr());
      if (batch.empty()) return batch;
      break;
    }
    ConsumedMessage out = FromRdKafka(*m);
    if (batch.empty()) gather_until = absl::Now() + options_.max_batch_wait;
    batch.push_back(std::move(out));
    if (absl::Now() >= gather_until) break;
  }
  // A rebalance inside consume() may have taken partitions away: their messages are the new
  // owner's now.
  absl::MutexLock lock(&mu_);
  std::erase_if(batch, [this](const ConsumedMessage& m) {
    return !assigned_.contains({m.topic, m.partition}) || paused_.contains({m.topic, m.partition});
  });
  return batch;
}

void KafkaConsumer::Run() {
  while (!stop_.load()) {
    ResumeDuePartitions();
    auto batch = Collect();
    if (!batch.empty()) ProcessBatch(std::move(batch));
  }
  if (auto code = consumer_->commitSync();
      code != RdKafka::ERR_NO_ERROR && code != RdKafka::ERR__NO_OFFSET) {
    spdlog::warn("kafka consumer {}: final commit: {}", options_.group_id, RdKafka::err2str(code));
  }
  consumer_->close();
  closed_ = true;
}

std::vector<Outcome> KafkaConsumer::HandleWithinLimits(const std::vector<ConsumedMessage>& batch) {
  auto size_of = [](const ConsumedMessage& m) {
    return m.key.size() + (m.value ? m.value->size() : 0);
  };
  std::vector<size_t> within;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (size_of(batch[i]) <= options_.max_record_bytes) within.push_back(i);
  }
  if (within.size() == batch.size()) return handler_.Handle(batch);
  // Rare: hand the handler the others only, in order, and put the outcomes back in place.
  std::vector<ConsumedMessage> others;
  for (size_t i : within) others.push_back(batch[i]);
  std::vector<Outcome> handled = others.empty() ? std::vector<Outcome>() : handler_.Handle(others);
  if (handled.size() != others.size()) {  // a handler that breaks its contract: a programmer error
    spdlog::critical("kafka consumer {}: {} outcomes for {} messages", options_.group_id,
                     handled.size(), others.size());
    std::abort();
  }
  std::vector<Outcome> outcomes(batch.size());
  for (size_t i = 0, next = 0; i < batch.size(); ++i) {
    if (next < within.size() && within[next] == i) {
      outcomes[i] = std::move(handled[next++]);
    } else {
      outcomes[i] = Outcome::DeadLetter(absl::StrCat("record of ", size_of(batch[i]),
                                                     " bytes is over the limit of ",
                                                     options_.max_record_bytes, " bytes"));
    }
  }
  return outcomes;
}

void KafkaConsumer::ProcessBatch(std::vector<ConsumedMessage> batch) {
  absl::Time started = absl::Now();
  std::vector<Outcome> outcomes = HandleWithinLimits(batch);
  if (batch_seconds_) batch_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - started));
  if (consumed_) consumed_->Increment(static_cast<double>(batch.size()));

  std::map<Partition, int64_t> next_offsets;
  std::set<Partition> rewound;
  for (const PlannedStep& step : PlanBatch(batch, outcomes)) {
    const ConsumedMessage& m = batch[step.index];
    Partition p{m.topic, m.partition};
    if (rewound.contains(p)) continue;  // a failed dead letter rewound it
    switch (step.action) {
      case PlannedStep::Action::kCommit:
        next_offsets[p] = m.offset + 1;
        break;
      case PlannedStep::Action::kDeadLetter:
        if (SendToDeadLetter(m, step.reason)) {
          next_offsets[p] = m.offset + 1;
        } else {
          Rewind(m, "dead-letter topic unavailable");
          rewound.insert(p);
        }
        break;
      case PlannedStep::Action::kRetryFrom:
        Rewind(m, step.reason);
        rewound.insert(p);
        break;
      case PlannedStep::Action::kSkip:
        break;
    }
  }

  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [p, offset] : next_offsets) {
    offsets.push_back(RdKafka::TopicPartition::create(p.first, p.second, offset));
    if (!rewound.contains(p)) retry_attempts_.erase(p);
  }
  if (!offsets.empty()) {
    if (auto code = consumer_->offsets_store(offsets); code != RdKafka::ERR_NO_ERROR) {
      // Partitions revoked meanwhile refuse the store: their new owner sees the messages again.
      spdlog::info("kafka consumer {}: storing offsets: {}", options_.group_id,
                   RdKafka::err2str(code));
    }
    RdKafka::TopicPartition::destroy(offsets);
  }
}

bool KafkaConsumer::SendToDeadLetter(const ConsumedMessage& m, const std::string& reason) {
  OutgoingMessage out;
  out.topic = options_.dead_letter_topic;
  out.key = m.key;
  out.value = m.value;
  out.headers = m.headers;
  out.headers.push_back({std::string(kHeaderDeadLetterReason), reason});
  out.headers.push_back({std::string(kHeaderDeadLetterTopic), m.topic});
  out.headers.push_back({std::string(kHeaderDeadLetterPartition), std::to_string(m.partition)});
  out.headers.push_back({std::string(kHeaderDeadLetterOffset), std::to_string(m.offset)});
  out.headers.push_back({std::string(kHeaderDeadLetterGroup), options_.group_id});
  absl::Status status = dead_letters_.Send(std::move(out));
  if (!status.ok()) {
    spdlog::error("kafka consumer {}: dead-lettering {}/{}@{} failed: {}", options_.group_id,
                  m.topic, m.partition, m.offset, status.ToString());
    return false;
  }
  spdlog::warn("kafka consumer {}: dead-lettered {}/{}@{}: {}", options_.group_id, m.topic,
               m.partition, m.offset, reason);
  if (dead_lettered_) dead_lettered_->Increment();
  return true;
}

void KafkaConsumer::Rewind(const ConsumedMessage& m, const std::string& reason) {
  Partition p{m.topic, m.partition};
  int attempt = ++retry_attempts_[p];
  absl::Duration backoff = options_.retry_backoff_initial * (1 << std::min(attempt - 1, 16));
  backoff = std::min(backoff, options_.retry_backoff_max);
  std::vector<RdKafka::TopicPartition*> tps = {
      RdKafka::TopicPartition::create(m.topic, m.partition, m.offset)};
  consumer_->pause(tps);
  std::optional<int64_t> seek_to;
  if (auto code = consumer_->seek(*tps[0], 5000); code != RdKafka::ERR_NO_ERROR) {
    spdlog::error("kafka consumer {}: rewinding {}/{} to {}: {}; trying again before resuming",
                  options_.group_id, m.topic, m.partition, m.offset, RdKafka::err2str(code));
    seek_to = m.offset;
  }
  RdKafka::TopicPartition::destroy(tps);
  paused_[p] = Paused{absl::Now() + backoff, seek_to};
  if (retried_) retried_->Increment();
  spdlog::info("kafka consumer {}: retrying {}/{}@{} in {} (attempt {}): {}", options_.group_id,
               m.topic, m.partition, m.offset, absl::FormatDuration(backoff), attempt, reason);
}

void KafkaConsumer::ResumeDuePartitions() {
  absl::Time now = absl::Now();
  std::vector<RdKafka::TopicPartition*> due;
  for (auto it = paused_.begin(); it != paused_.end();) {
    if (it->second.resume_at <= now && it->second.seek_to) {
      std::unique_ptr<RdKafka::TopicPartition> tp(
          RdKafka::TopicPartition::create(it->first.first, it->first.second, *it->second.seek_to));
      if (consumer_->seek(*tp, 5000) != RdKafka::ERR_NO_ERROR) {
        it->second.resume_at = now + absl::Seconds(1);
        ++it;
        continue;
      }
      it->second.seek_to.reset();
    }
    if (it->second.resume_at <= now) {
      due.push_back(RdKafka::TopicPartition::create(it->first.first, it->first.second));
      it = paused_.erase(it);
    } else {
      ++it;
    }
  }
  if (due.empty()) return;
  consumer_->resume(due);
  RdKafka::TopicPartition::destroy(due);
}

}  // namespace signpost::kafka
