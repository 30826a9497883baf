#include "services/followup/outbox_publisher.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"

namespace signpost::followup {
namespace {

constexpr char kLeaseLua[] = R"lua(
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

constexpr int kLeaseMillis = 10000;
constexpr int kBatch = 500;
constexpr absl::Duration kPoll = absl::Milliseconds(50);

}  // namespace

OutboxPublisher::OutboxPublisher(redis::RedisClient& redis, RedisKeys keys,
                                 kafka::Producer& producer, std::string instance,
                                 metrics::Registry& metrics)
    : redis_(redis),
      keys_(std::move(keys)),
      producer_(producer),
      instance_(std::move(instance)),
      lease_(kLeaseLua),
      published_(metrics.GetCounter("signpost_followup_outbox_published_total",
                                    "Events moved from the outbox to the broker")),
      backlog_(metrics.GetGauge("signpost_followup_outbox_backlog",
                                "Events in the outbox at the last pass (this instance's view)")) {}

OutboxPublisher::~OutboxPublisher() { Stop(); }

absl::StatusOr<bool> OutboxPublisher::HoldLease() {
  auto reply = lease_.Run(redis_, {keys_.OutboxLock()}, {instance_, absl::StrCat(kLeaseMillis)});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::StatusOr<int> OutboxPublisher::PublishOnce() {
  auto held = HoldLease();
  if (!held.ok()) return held.status();
  if (!*held) return 0;
  int total = 0;
  for (;;) {
    auto entries =
        redis_.Execute({"XRANGE", keys_.Outbox(), "-", "+", "COUNT", absl::StrCat(kBatch)});
    if (!entries.ok()) return entries.status();
    backlog_.Set(static_cast<double>(entries->elements.size()));
    if (entries->elements.empty()) return total;
    std::vector<kafka::OutgoingMessage> messages;
    redis::Command remove = {"XDEL", keys_.Outbox()};
    for (const auto& entry : entries->elements) {
      if (entry.elements.size() != 2) return absl::InternalError("unexpected outbox entry");
      remove.push_back(entry.elements[0].str);
      std::string topic, key, value;
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "topic") topic = fields[i + 1].str;
        if (fields[i].str == "key") key = fields[i + 1].str;
        if (fields[i].str == "value") value = fields[i + 1].str;
      }
      v1::Event event;
      if (topic.empty() || !event.ParseFromString(value)) {
        // Written by this service's own commit: unreadable means a bug, not bad input. It is
        // logged and dropped rather than blocking every event behind it.
        spdlog::error("dropping unreadable outbox entry {}", entry.elements[0].str);
        continue;
      }
      messages.push_back(events::ToMessage(event, topic, key));
    }
    if (absl::Status sent = producer_.SendAll(messages); !sent.ok()) return sent;
    if (auto removed = redis_.Execute(remove); !removed.ok()) return removed.status();
    published_.Increment(static_cast<double>(messages.size()));
    total += static_cast<int>(messages.size());
    // Renew the lease between batches so a long backlog is not taken over midway.
    auto still = HoldLease();
    if (!still.ok()) return still.status();
    if (!*still) return total;
  }
}

void OutboxPublisher::Start() {
  thread_ = std::thread([this] {
    absl::Duration backoff = kPoll;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(
                                 +[](OutboxPublisher* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
                                   return p->woken_ || p->stopping_;
                                 },
                                 this),
                             backoff);
        woken_ = false;
        if (stopping_) break;
      }
      auto published = PublishOnce();
      if (published.ok()) {
        backoff = kPoll;
      } else {
        spdlog::warn("outbox: {}", published.status().ToString());
        backoff = std::min(backoff * 2, absl::Seconds(2));
      }
    }
    // A last pass, so what was committed before shutdown goes out now rather than later.
    auto last = PublishOnce();
    if (!last.ok()) spdlog::warn("outbox at shutdown: {}", last.status().ToString());
  });
}

void OutboxPublisher::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void OutboxPublisher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace signpost::followup
