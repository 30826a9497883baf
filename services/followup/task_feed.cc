#include "services/followup/task_feed.h"

#include <spdlog/spdlog.h>

#include "common/status/field_violations.h"

namespace signpost::followup {
namespace {

constexpr char kBlockMillis[] = "200";
constexpr char kCount[] = "500";
// After a read that found updates, what comes next is gathered for a moment: a read covers every
// subscribed queue, and one per update costs Redis more than all the commits it follows. 2 ms
// rather than 5 took about 3 ms off a task's median time on the stream at 1,000 referrals/s for
// about 40% more reads (tools/bench e2e, task feed column).
constexpr absl::Duration kGather = absl::Milliseconds(2);

}  // namespace

TaskFeed::TaskFeed(redis::RedisClient& blocking_redis, redis::RedisClient& redis, RedisKeys keys,
                   SnapshotSource snapshot)
    : blocking_redis_(blocking_redis),
      redis_(redis),
      keys_(std::move(keys)),
      snapshot_(std::move(snapshot)) {}

TaskFeed::~TaskFeed() { Stop(); }

void TaskFeed::Start() {
  thread_ = std::thread([this] { Run(); });
}

void TaskFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TaskFeed::Add(Subscriber* subscriber, const std::string& queue, const std::string& token) {
  absl::MutexLock lock(&mu_);
  cursors_[subscriber] = {queue, token};
}

void TaskFeed::Remove(Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  cursors_.erase(subscriber);
}

size_t TaskFeed::subscribers() const {
  absl::MutexLock lock(&mu_);
  return cursors_.size();
}

absl::StatusOr<bool> TaskFeed::CanResume(const std::string& queue, const std::string& token) {
  auto parsed = FeedToken::Parse(token);
  if (!parsed) {
    return InvalidArgumentWithViolations(
        {{"resume_token", "not a resume token: use one received on this queue, or none"}});
  }
  auto info = redis_.Execute({"XINFO", "STREAM", keys_.Feed(queue)});
  if (!info.ok()) {
    // No feed yet: only the empty feed's token can resume.
    if (info.status().code() != absl::StatusCode::kUnavailable && *parsed == FeedToken{}) {
      return true;
    }
    if (info.status().code() != absl::StatusCode::kUnavailable) {
      return InvalidArgumentWithViolations(
          {{"resume_token", "this queue has no updates yet; subscribe without a token"}});
    }
    return info.status();
  }
  FeedBounds feed = FeedBounds::FromXinfo(*info);
  if (*parsed > feed.last_generated) {
    return InvalidArgumentWithViolations(
        {{"resume_token", "later than anything in this queue's feed: not a token of this queue"}});
  }
  return HoldsEverythingAfter(feed, *parsed);
}

std::map<std::string, FeedBounds> TaskFeed::BoundsOf(const std::vector<std::string>& queues) {
  std::map<std::string, FeedBounds> bounds;
  for (const auto& queue : queues) {
    auto reply = blocking_redis_.Execute({"XINFO", "STREAM", keys_.Feed(queue)});
    if (!reply.ok()) {
      spdlog::warn("task feed of {}: {}", queue, reply.status().ToString());
      continue;  // unknown: no cursor is restarted on a guess
    }
    bounds[queue] = FeedBounds::FromXinfo(*reply);
  }
  return bounds;
}

void TaskFeed::Run() {
  for (;;) {
    // The earliest cursor per queue: one XREAD covers every subscriber of that queue.
    std::map<std::string, FeedToken> from;
    std::map<std::string, std::string> from_text;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](TaskFeed* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu_) {
                                 return f->stopping_ || !f->cursors_.empty();
                               },
                               this),
                           absl::Milliseconds(200));
      if (stopping_) return;
      for (const auto& [subscriber, cursor] : cursors_) {
        FeedToken token = FeedToken::Parse(cursor.token).value_or(FeedToken{});
        auto it = from.find(cursor.queue);
        if (it == from.end() || token < it->second) {
          from[cursor.queue] = token;
          from_text[cursor.queue] = cursor.token;
        }
      }
    }
    if (from.empty()) continue;
    redis::Command xread = {"XREAD", "COUNT", kCount, "BLOCK", kBlockMillis, "STREAMS"};
    for (const auto& [queue, token] : from) xread.push_back(keys_.Feed(queue));
    for (const auto& [queue, token] : from_text) xread.push_back(token);
    auto reply = blocking_redis_.Execute(xread);
    if (!reply.ok()) {
      spdlog::warn("task feed: {}", reply.status().ToString());
      absl::SleepFor(absl::Milliseconds(500));
      continue;
    }
    if (reply->is_nil()) continue;
    absl::Time read_at = absl::Now();
    // Read after the XREAD: a cursor the feed no longer holds everything after may have had
    // entries after it trimmed away (XADD MAXLEN ~ trims whole nodes), even one CanResume
    // accepted before the first read. Such a subscriber starts again from a snapshot.
    std::vector<std::string> read_queues;
    for (const auto& stream : reply->elements) {
      if (stream.elements.size() == 2) {
        read_queues.push_back(stream.elements[0].str.substr(keys_.Feed("").size()));
      }
    }
    std::map<std::string, FeedBounds> bounds = BoundsOf(read_queues);
    // Per queue: its entries, in order.
    std::map<std::string, std::vector<std::pair<FeedToken, v1::TaskUpdate>>> updates;
    for (const auto& stream : reply->elements) {
      if (stream.elements.size() != 2) continue;
      std::string queue = stream.elements[0].str.substr(keys_.Feed("").size());
      for (const auto& entry : stream.elements[1].elements) {
        if (entry.elements.size() != 2 || entry.elements[1].elements.size() < 2) continue;
        v1::TaskUpdate update;
        if (!update.mutable_task()->ParseFromString(entry.elements[1].elements[1].str)) {
          spdlog::error("task feed of {}: unreadable entry {}", queue, entry.elements[0].str);
          continue;
        }
        update.set_resume_token(entry.elements[0].str);
        updates[queue].emplace_back(FeedToken::Parse(entry.elements[0].str).value_or(FeedToken{}),
                                    std::move(update));
      }
    }
    std::map<std::string, absl::StatusOr<std::vector<v1::TaskUpdate>>> snapshots;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [subscriber, cursor] : cursors_) {
        auto it = updates.find(cursor.queue);
        if (it == updates.end()) continue;
        FeedToken at = FeedToken::Parse(cursor.token).value_or(FeedToken{});
        // Added during the read with a cursor before the one it read from (a resume behind the
        // queue's other subscribers): this read lacks what lies between the two. The next read
        // starts from its cursor.
        if (at < from.at(cursor.queue)) continue;
        auto held = bounds.find(cursor.queue);
        if (held != bounds.end() && !HoldsEverythingAfter(held->second, at)) {
          auto snapshot = snapshots.find(cursor.queue);
          if (snapshot == snapshots.end()) {
            snapshot = snapshots.emplace(cursor.queue, snapshot_(cursor.queue)).first;
          }
          if (!snapshot->second.ok() || snapshot->second->empty()) {
            // Tried again on the next read, from the same cursor.
            spdlog::warn("task feed of {}: no snapshot: {}", cursor.queue,
                         snapshot->second.status().ToString());
            continue;
          }
          cursor.token = snapshot->second->back().resume_token();
          subscriber->Deliver(*snapshot->second);
          continue;
        }
        std::vector<v1::TaskUpdate> batch;
        for (const auto& [token, update] : it->second) {
          if (token > at) batch.push_back(update);
        }
        if (batch.empty()) continue;
        cursor.token = batch.back().resume_token();
        subscriber->Deliver(std::move(batch));
      }
    }
    absl::SleepFor(kGather - (absl::Now() - read_at));
  }
}

}  // namespace signpost::followup
