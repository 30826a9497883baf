#include "services/followup/outbox_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "services/followup/acquire_outbox_lease.lua.h"
#include "services/followup/feedback_fhir_message.h"
#include "services/followup/mark_outbox_sent.lua.h"
#include "services/followup/release_outbox_lease.lua.h"
#include "services/followup/renew_outbox_lease.lua.h"

namespace signpost::followup {
namespace {

constexpr int kBatch = 500;
constexpr absl::Duration kPoll = absl::Milliseconds(50);

std::string Millis(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d)); }

}  // namespace

OutboxLease OutboxLease::For(absl::Duration longest_send) {
  OutboxLease lease;
  lease.longest_send = longest_send;
  lease.ttl = 2 * longest_send;
  lease.renew_every = lease.ttl / 6;
  return lease;
}

absl::StatusOr<absl::Duration> LongestSend(absl::Duration delivery_timeout,
                                           const std::map<std::string, std::string>& properties) {
  std::optional<absl::Duration> longest;
  for (const char* name : {"delivery.timeout.ms", "message.timeout.ms"}) {
    auto it = properties.find(name);
    if (it == properties.end()) continue;
    int64_t millis = 0;
    if (!absl::SimpleAtoi(it->second, &millis) || millis <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--kafka-property ", name, "=", it->second,
          ": must be a positive number of milliseconds (0 means no limit, and the outbox's "
          "publishing lease must outlast the longest send)"));
    }
    longest = std::max(longest.value_or(absl::ZeroDuration()), absl::Milliseconds(millis));
  }
  return longest.value_or(delivery_timeout);
}

absl::Status OutboxLease::Check() const {
  if (longest_send <= absl::ZeroDuration() || renew_every <= absl::ZeroDuration() ||
      ttl <= longest_send + 2 * renew_every) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an outbox lease of ", absl::FormatDuration(ttl), " renewed every ",
        absl::FormatDuration(renew_every), " cannot outlast a send of ",
        absl::FormatDuration(longest_send), ": it must be longer than the send and two renewals"));
  }
  return absl::OkStatus();
}

OutboxPublisher::OutboxPublisher(redis::RedisClient& redis, RedisKeys keys,
                                 kafka::Producer& producer, std::string instance,
                                 metrics::Registry& metrics, OutboxLease lease)
    : redis_(redis),
      keys_(std::move(keys)),
      producer_(producer),
      instance_(std::move(instance)),
      lease_(lease),
      acquire_(std::string(lua::kAcquireOutboxLease)),
      renew_(std::string(lua::kRenewOutboxLease)),
      mark_sent_(std::string(lua::kMarkOutboxSent)),
      release_(std::string(lua::kReleaseOutboxLease)),
      published_(metrics.GetCounter("signpost_followup_outbox_published_total",
                                    "Events moved from the outbox to the broker")),
      backlog_(metrics.GetGauge("signpost_followup_outbox_backlog",
                                "Events in the outbox at the last pass (this instance's view)")),
      holding_(metrics.GetGauge("signpost_followup_outbox_lease_held",
                                "1 while this instance is the one that publishes the outbox")),
      lost_(metrics.GetCounter(
          "signpost_followup_outbox_lease_lost_total",
          "Times this instance found its outbox lease taken over (it then published nothing "
          "more and left the entries to the new holder)")) {}

OutboxPublisher::~OutboxPublisher() { Stop(); }

absl::StatusOr<std::string> OutboxPublisher::Acquire() {
  std::string token;
  {
    absl::MutexLock lock(&mu_);
    token = token_;
  }
  if (!token.empty()) {
    auto renewed = Renew(token);
    if (!renewed.ok()) return renewed.status();
    if (*renewed) return token;
  }
  const absl::Time asked = absl::Now();
  auto reply = acquire_.Run(redis_, {keys_.OutboxLock(), keys_.OutboxEpoch()},
                            {instance_, Millis(lease_.ttl)});
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 2) return absl::InternalError("unexpected outbox lease reply");
  if (reply->elements[0].integer != 1) return std::string();
  absl::MutexLock lock(&mu_);
  token_ = reply->elements[1].str;
  held_until_ = asked + lease_.ttl;
  holding_.Set(1);
  spdlog::info("outbox: this instance publishes now (lease {})", token_);
  return token_;
}

absl::StatusOr<bool> OutboxPublisher::Renew(const std::string& token) {
  // Counted from before the renewal was asked for: the lease surely lasts that long.
  const absl::Time asked = absl::Now();
  auto reply = renew_.Run(redis_, {keys_.OutboxLock()}, {token, Millis(lease_.ttl)});
  if (!reply.ok()) return reply.status();
  if (reply->integer != 1) {
    LostLease(token);
    return false;
  }
  absl::MutexLock lock(&mu_);
  if (token_ == token) held_until_ = std::max(held_until_, asked + lease_.ttl);
  return true;
}

void OutboxPublisher::LostLease(const std::string& token) {
  absl::MutexLock lock(&mu_);
  if (token_ != token || token_.empty()) return;
  spdlog::warn(
      "outbox: lease {} was taken over; publishing nothing more until this instance "
      "holds it again",
      token_);
  lost_.Increment();
  token_.clear();
  held_until_ = absl::InfinitePast();
  holding_.Set(0);
}

bool OutboxPublisher::RoomForASend() {
  absl::MutexLock lock(&mu_);
  return held_until_ - absl::Now() >= lease_.longest_send + lease_.renew_every;
}

absl::StatusOr<int> OutboxPublisher::PublishOnce() {
  auto token = Acquire();
  if (!token.ok()) return token.status();
  if (token->empty()) return 0;
  int total = 0;
  for (bool first = true;; first = false) {
    // Fencing: every batch begins under this token, with time left for the whole send.
    if (!first) {
      auto still = Renew(*token);
      if (!still.ok()) return still.status();
      if (!*still) return total;
    }
    if (!RoomForASend()) {
      return absl::UnavailableError(
          "the outbox lease could not be renewed in time for a whole send: waiting for Redis");
    }
    auto entries =
        redis_.Execute({"XRANGE", keys_.Outbox(), "-", "+", "COUNT", absl::StrCat(kBatch)});
    if (!entries.ok()) return entries.status();
    backlog_.Set(static_cast<double>(entries->elements.size()));
    if (entries->elements.empty()) return total;
    std::vector<kafka::OutgoingMessage> messages;
    std::vector<std::string> sent = {*token};
    for (const auto& entry : entries->elements) {
      if (entry.elements.size() != 2) return absl::InternalError("unexpected outbox entry");
      sent.push_back(entry.elements[0].str);
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
      // The message back's FHIR form is made here, on the way out, because the rules that
      // decide the event stay free of JSON; it is a function of the event, so a resend carries
      // the same bytes.
      AttachFhirMessage(event);
      messages.push_back(events::ToMessage(event, topic, key));
    }
    if (absl::Status s = producer_.SendAll(messages); !s.ok()) return s;
    auto marked = mark_sent_.Run(redis_, {keys_.OutboxLock(), keys_.Outbox()}, sent);
    if (!marked.ok()) return marked.status();
    if (marked->integer < 0) {
      LostLease(*token);
      return total;
    }
    published_.Increment(static_cast<double>(messages.size()));
    total += static_cast<int>(messages.size());
  }
}

void OutboxPublisher::Watchdog() {
  for (;;) {
    std::string token;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&watchdog_stopping_), lease_.renew_every);
      if (watchdog_stopping_) return;
      token = token_;
    }
    if (token.empty()) continue;
    // Renewed whatever the publishing thread is doing, so a send that waits on the broker keeps
    // the lease (and no other instance publishes meanwhile).
    auto renewed = Renew(token);
    if (!renewed.ok()) spdlog::warn("outbox lease: {}", renewed.status().ToString());
  }
}

void OutboxPublisher::Start() {
  watchdog_ = std::thread([this] { Watchdog(); });
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
  // The last pass is done: nothing of this instance is in flight, so another may take over now.
  std::string token;
  {
    absl::MutexLock lock(&mu_);
    watchdog_stopping_ = true;
    token = std::exchange(token_, "");
    holding_.Set(0);
  }
  if (watchdog_.joinable()) watchdog_.join();
  if (!token.empty()) {
    auto released = release_.Run(redis_, {keys_.OutboxLock()}, {token});
    if (!released.ok()) spdlog::warn("outbox lease at shutdown: {}", released.status().ToString());
  }
}

}  // namespace signpost::followup
