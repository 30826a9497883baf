#include "common/kafka/topic_follower.h"

#include "common/kafka/rdkafka_config.h"
#include "common/kafka/rdkafka_message.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/errors.h"

namespace signpost::kafka {

TopicFollower::TopicFollower(Options options, std::function<absl::Status()> begin_read, Apply apply,
                             std::function<absl::Status()> on_caught_up,
                             std::function<bool()> still_valid)
    : options_(std::move(options)),
      begin_read_(std::move(begin_read)),
      apply_(std::move(apply)),
      on_caught_up_(std::move(on_caught_up)),
      still_valid_(std::move(still_valid)) {}

TopicFollower::~TopicFollower() { Stop(); }

absl::Status TopicFollower::Start() {
  auto consumer = MakeConsumer(
      {
          {"bootstrap.servers", options_.bootstrap},
          // assign() needs a group id, but nothing is ever committed under it.
          {"group.id", absl::StrCat("signpost-follower-", options_.topic)},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", "false"},
          {"fetch.wait.max.ms", "100"},
      },
      options_.properties, "follower");
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  if (absl::Status s = Rewind(); !s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void TopicFollower::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (consumer_) {
    consumer_->close();
    consumer_.reset();
  }
}

absl::Status TopicFollower::Rewind() {
  ready_.store(false);
  rewind_pending_ = true;  // until the re-read has really started
  read_begun_ = false;
  RdKafka::Metadata* raw = nullptr;
  std::string err;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer_.get(), options_.topic, nullptr, err));
  if (auto code = consumer_->metadata(false, handle.get(), &raw, 10000);
      code != RdKafka::ERR_NO_ERROR) {
    return KafkaStatus(code, absl::StrCat("metadata of ", options_.topic));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  std::map<int32_t, int64_t> remaining;
  for (const auto* t : *metadata->topics()) {
    if (t->err() != RdKafka::ERR_NO_ERROR) {
      RdKafka::TopicPartition::destroy(partitions);
      return KafkaStatus(t->err(), options_.topic);
    }
    for (const auto* p : *t->partitions()) {
      int64_t low = 0, high = 0;
      // A topic created moments ago may have no leader yet: wait for one rather than fail.
      RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
      for (int attempt = 0; attempt < 50; ++attempt) {
        code = consumer_->query_watermark_offsets(options_.topic, p->id(), &low, &high, 10000);
        if (code != RdKafka::ERR_NOT_LEADER_FOR_PARTITION &&
            code != RdKafka::ERR_LEADER_NOT_AVAILABLE) {
          break;
        }
        absl::SleepFor(absl::Milliseconds(200));
      }
      if (code != RdKafka::ERR_NO_ERROR) {
        RdKafka::TopicPartition::destroy(partitions);
        return KafkaStatus(code, "watermarks");
      }
      if (high > low) remaining[p->id()] = high;
      partitions.push_back(RdKafka::TopicPartition::create(options_.topic, p->id(),
                                                           RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  if (partitions.empty())
    return absl::UnavailableError(absl::StrCat("no partitions of ", options_.topic));
  auto code = consumer_->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (code != RdKafka::ERR_NO_ERROR) return KafkaStatus(code, "assign");
  remaining_ = std::move(remaining);
  rewind_pending_ = false;
  spdlog::info("reading {} from the beginning ({} partitions with data)", options_.topic,
               remaining_.size());
  return absl::OkStatus();
}

void TopicFollower::Run() {
  absl::Time next_check = absl::Now() + options_.validity_check_interval;
  absl::Time next_rewind = absl::InfinitePast(), next_begin = absl::InfinitePast();
  absl::Duration begin_backoff = absl::Milliseconds(100);
  auto read_again = [this](const absl::Status& why) {
    spdlog::warn("{}: {}; reading it again from the beginning", options_.topic, why.ToString());
    rewind_pending_ = true;
    ready_.store(false);
  };
  auto finish_if_caught_up = [&] {
    if (ready_.load() || rewind_pending_ || !read_begun_ || !remaining_.empty()) return;
    absl::Status done = on_caught_up_ ? on_caught_up_() : absl::OkStatus();
    if (done.ok()) {
      ready_.store(true);
      spdlog::info("{} applied to the end: ready", options_.topic);
    } else if (absl::IsAborted(done)) {
      read_again(done);
    }
  };
  while (!stop_.load()) {
    if (absl::Now() >= next_check) {
      next_check = absl::Now() + options_.validity_check_interval;
      if (ready_.load() && still_valid_ && !still_valid_()) {
        spdlog::warn("{}: the local copy is gone; reading the topic again", options_.topic);
        rewind_pending_ = true;
        ready_.store(false);
      }
      finish_if_caught_up();
    }
    // Nothing is read while a re-read is due but not begun: what is read now would be applied
    // to a copy that is gone.
    if (rewind_pending_) {
      if (absl::Now() < next_rewind) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      if (absl::Status s = Rewind(); !s.ok()) {
        spdlog::error("rewinding {}: {}; trying again", options_.topic, s.ToString());
        next_rewind = absl::Now() + options_.validity_check_interval;
        continue;
      }
    }
    if (!read_begun_) {
      if (absl::Now() < next_begin) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      absl::Status begun = begin_read_ ? begin_read_() : absl::OkStatus();
      if (!begun.ok()) {
        spdlog::warn("beginning to read {}: {}; trying again", options_.topic, begun.ToString());
        next_begin = absl::Now() + begin_backoff;
        begin_backoff = std::min(begin_backoff * 2, absl::Seconds(5));
        continue;
      }
      read_begun_ = true;
      begin_backoff = absl::Milliseconds(100);
      finish_if_caught_up();  // an empty topic
    }
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("following {}: {}", options_.topic, m->errstr());
      continue;
    }
    ConsumedMessage c = FromRdKafka(*m);
    absl::Duration backoff = absl::Milliseconds(100);
    while (!stop_.load()) {
      absl::Status applied = apply_(c);
      if (applied.ok()) break;
      if (absl::IsAborted(applied)) {
        read_again(applied);
        break;
      }
      spdlog::warn("applying {}/{}@{}: {}; retrying", c.topic, c.partition, c.offset,
                   applied.ToString());
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    if (rewind_pending_) continue;  // this message is applied again in the re-read
    if (auto it = remaining_.find(c.partition);
        it != remaining_.end() && c.offset + 1 >= it->second) {
      remaining_.erase(it);
    }
    finish_if_caught_up();
  }
}

}  // namespace signpost::kafka
