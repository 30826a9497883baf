#include "services/intake/redis_status_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/redis/lua_script.h"
#include "services/intake/apply_status.lua.h"
#include "services/intake/expire_statuses.lua.h"
#include "services/intake/redis_keys.h"
#include "services/intake/status_projection.h"

namespace signpost::intake {
namespace {

// The prefix of an event's field in the status hash; ApplyScript writes it as a literal.
constexpr char kHistoryField[] = "h:";
// The prefix of a connection's field (its resource id after it): one per resource, so a
// connection recorded again (a redelivered event) is the same field.
constexpr char kConnectionField[] = "c:";

// A view's state field: only a final one (closed, withdrawn, rejected) expires. An entry in the
// expiry index for a view not final is one the former rule (every view expired) left there.
bool FinalState(const redis::Reply& state) {
  int64_t number = 0;
  return absl::SimpleAtoi(state.str, &number) &&
         v1::ReferralState_IsValid(static_cast<int>(number)) &&
         IsTerminal(static_cast<v1::ReferralState>(number));
}

std::string StateKey(const std::string& id) { return redis_keys::Status(id); }
// Before the history moved into the status hash, it was a list beside it and the applied event
// ids a set: both are still read, so a referral recorded then keeps its history and is not
// recorded twice. Nothing writes them any more.
std::string LegacyHistoryKey(const std::string& id) { return redis_keys::LegacyHistory(id); }
std::string LegacyEventsKey(const std::string& id) { return redis_keys::LegacyEvents(id); }

// The script is apply_status.lua (its comment says what it does and why).
const redis::LuaScript& ApplyScript() {
  static const redis::LuaScript kScript{std::string(lua::kApplyStatus)};
  return kScript;
}

// The script is expire_statuses.lua (its comment says what it does and why).
const redis::LuaScript& ExpireScript() {
  static const redis::LuaScript kScript{std::string(lua::kExpireStatuses)};
  return kScript;
}

redis::LuaScript::Call ApplyCall(const std::string& referral_id, const StatusUpdate& u,
                                 int64_t expires_ms) {
  int64_t at_ms = u.change.at().seconds() * 1000 + u.change.at().nanos() / 1000000;
  return {
      {StateKey(referral_id), LegacyEventsKey(referral_id), redis_keys::StatusExpiry()},
      {u.change.event_id(),
       std::to_string(u.change.state()),
       u.change.SerializeAsString(),
       std::to_string(at_ms),
       std::to_string(expires_ms),
       referral_id,
       "source_system",
       u.source.source_system(),
       "source_referral_id",
       u.source.source_referral_id(),
       "ods",
       u.referrer_ods_code,
       "priority",
       u.priority == v1::URGENCY_UNSPECIFIED ? "" : std::to_string(u.priority),
       "raised_priority",
       u.raised_priority == v1::URGENCY_UNSPECIFIED ? "" : std::to_string(u.raised_priority),
       "closure",
       u.closure_reason == v1::CLOSURE_REASON_UNSPECIFIED ? "" : std::to_string(u.closure_reason),
       "owner",
       u.link_worker_id,
       u.connection ? absl::StrCat(kConnectionField, u.connection->resource_id()) : "",
       u.connection ? u.connection->SerializeAsString() : ""}};
}

absl::Status CorruptHistory(const std::string& referral_id) {
  return absl::DataLossError(absl::StrCat("status history of ", referral_id, " is corrupt"));
}

}  // namespace

RedisStatusStore::RedisStatusStore(redis::RedisClient& redis, StatusRetention retention)
    : redis_(redis), retention_(std::move(retention)) {}

int64_t RedisStatusStore::NowMs() const { return absl::ToUnixMillis(retention_.clock()); }

absl::Status RedisStatusStore::Apply(const std::string& referral_id, const StatusUpdate& u) {
  return ApplyMany({{referral_id, u}});
}

absl::Status RedisStatusStore::ApplyMany(
    const std::vector<std::pair<std::string, StatusUpdate>>& updates) {
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(updates.size());
  const int64_t expires_ms = NowMs() + absl::ToInt64Milliseconds(retention_.status);
  for (const auto& [id, update] : updates) calls.push_back(ApplyCall(id, update, expires_ms));
  auto replies = ApplyScript().RunMany(redis_, calls);
  if (!replies.ok()) return replies.status();
  for (const auto& reply : *replies) {
    if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::GetReferralResponse>> RedisStatusStore::Get(
    const std::string& referral_id) {
  auto replies = redis_.Pipeline({{"HGETALL", StateKey(referral_id)},
                                  {"LRANGE", LegacyHistoryKey(referral_id), "0", "-1"},
                                  {"ZSCORE", redis_keys::StatusExpiry(), referral_id}});
  if (!replies.ok()) return replies.status();
  const auto& fields = (*replies)[0].elements;
  if (fields.empty()) return std::optional<v1::GetReferralResponse>();
  // Expired (a tombstone, or final, due and not yet swept): Released answers for it.
  int64_t expires_ms = 0;
  bool due = absl::SimpleAtoi((*replies)[2].str, &expires_ms) && expires_ms <= NowMs();
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str == "gone") return std::optional<v1::GetReferralResponse>();
    if (fields[i].str == "state" && due && FinalState(fields[i + 1])) {
      return std::optional<v1::GetReferralResponse>();
    }
  }
  v1::GetReferralResponse out;
  out.set_referral_id(referral_id);
  int64_t raised_priority = v1::URGENCY_UNSPECIFIED;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    const std::string& value = fields[i + 1].str;
    int64_t number = 0;
    bool numeric = absl::SimpleAtoi(value, &number);
    if (absl::StartsWith(name, kHistoryField)) {
      if (!out.add_history()->ParseFromString(value)) return CorruptHistory(referral_id);
    } else if (absl::StartsWith(name, kConnectionField)) {
      if (!out.add_connections()->ParseFromString(value)) return CorruptHistory(referral_id);
    } else if (name == "owner") {
      out.set_link_worker_id(value);
    } else if (name == "state" && numeric) {
      out.set_state(static_cast<v1::ReferralState>(number));
    } else if (name == "source_system") {
      out.mutable_source()->set_source_system(value);
    } else if (name == "source_referral_id") {
      out.mutable_source()->set_source_referral_id(value);
    } else if (name == "ods") {
      out.set_referrer_ods_code(value);
    } else if (name == "priority" && numeric) {
      out.set_priority(static_cast<v1::Urgency>(number));
    } else if (name == "raised_priority" && numeric) {
      raised_priority = number;
    } else if (name == "closure" && numeric) {
      out.set_closure_reason(static_cast<v1::ClosureReason>(number));
    } else if (name == "updated_ms" && numeric) {
      out.mutable_updated_at()->set_seconds(number / 1000);
      out.mutable_updated_at()->set_nanos(static_cast<int32_t>(number % 1000) * 1000000);
    }
  }
  if (raised_priority > out.priority() && v1::Urgency_IsValid(static_cast<int>(raised_priority))) {
    out.set_priority(static_cast<v1::Urgency>(raised_priority));
  }
  for (const auto& entry : (*replies)[1].elements) {
    if (!out.add_history()->ParseFromString(entry.str)) return CorruptHistory(referral_id);
  }
  // Events from different topics arrive in any order: show the history in time order.
  std::stable_sort(out.mutable_history()->begin(), out.mutable_history()->end(),
                   [](const v1::StateChange& a, const v1::StateChange& b) {
                     return std::make_pair(a.at().seconds(), a.at().nanos()) <
                            std::make_pair(b.at().seconds(), b.at().nanos());
                   });
  std::stable_sort(out.mutable_connections()->begin(), out.mutable_connections()->end(),
                   [](const v1::ReferralConnection& a, const v1::ReferralConnection& b) {
                     return std::make_pair(a.at().seconds(), a.at().nanos()) <
                            std::make_pair(b.at().seconds(), b.at().nanos());
                   });
  return std::optional<v1::GetReferralResponse>(std::move(out));
}

absl::StatusOr<std::optional<ReleasedStatus>> RedisStatusStore::Released(
    const std::string& referral_id) {
  auto replies = redis_.Pipeline({{"HMGET", StateKey(referral_id), "gone", "ods", "state"},
                                  {"ZSCORE", redis_keys::StatusExpiry(), referral_id}});
  if (!replies.ok()) return replies.status();
  const auto& fields = (*replies)[0].elements;
  if (fields.size() != 3) return absl::InternalError("HMGET answered the wrong number of fields");
  const bool tombstone = fields[0].type != redis::Reply::Type::kNil;
  const bool held = fields[2].type != redis::Reply::Type::kNil;
  int64_t expired_ms = 0;
  if (tombstone) {
    if (!absl::SimpleAtoi(fields[0].str, &expired_ms)) {
      return absl::DataLossError(absl::StrCat("tombstone of ", referral_id, " is corrupt"));
    }
  } else if (!held || !FinalState(fields[2]) || !absl::SimpleAtoi((*replies)[1].str, &expired_ms) ||
             expired_ms > NowMs()) {
    return std::optional<ReleasedStatus>();  // never seen, or held
  }
  return std::optional<ReleasedStatus>(
      ReleasedStatus{fields[1].str, absl::FromUnixMillis(expired_ms)});
}

absl::StatusOr<bool> RedisStatusStore::IndexOlderViews(std::string& cursor, int batch) {
  auto scan = redis_.Execute(
      {"SCAN", cursor, "MATCH", redis_keys::Status("*"), "COUNT", std::to_string(batch)});
  if (!scan.ok()) return scan.status();
  if (scan->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
  cursor = scan->elements[0].str;
  const std::string prefix = redis_keys::Status("");
  std::vector<std::string> ids;
  std::vector<redis::Command> reads;
  for (const auto& key : scan->elements[1].elements) {
    ids.push_back(key.str.substr(prefix.size()));
    reads.push_back({"HMGET", key.str, "updated_ms", "state"});
  }
  if (!reads.empty()) {
    auto updated = redis_.Pipeline(reads);
    if (!updated.ok()) return updated.status();
    std::vector<redis::Command> adds;
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto& fields = (*updated)[i].elements;
      if (fields.size() != 2)
        return absl::InternalError("HMGET answered the wrong number of fields");
      int64_t updated_ms = 0;
      // A tombstone has no updated_ms, and is indexed already.
      if (!absl::SimpleAtoi(fields[0].str, &updated_ms)) continue;
      // A view not final never expires: out of the index, where the former rule may have put it.
      if (!FinalState(fields[1])) {
        adds.push_back({"ZREM", redis_keys::StatusExpiry(), ids[i]});
        continue;
      }
      adds.push_back({"ZADD", redis_keys::StatusExpiry(), "NX",
                      std::to_string(updated_ms + absl::ToInt64Milliseconds(retention_.status)),
                      ids[i]});
    }
    if (!adds.empty()) {
      auto added = redis_.Pipeline(adds);
      if (!added.ok()) return added.status();
    }
  }
  return cursor == "0";
}

absl::StatusOr<int64_t> RedisStatusStore::ExpireDue(int batch) {
  auto reply = ExpireScript().Run(
      redis_, {redis_keys::StatusExpiry()},
      {std::to_string(NowMs()), std::to_string(absl::ToInt64Milliseconds(retention_.tombstone)),
       std::to_string(batch), redis_keys::Status(""), redis_keys::LegacyHistory(""),
       redis_keys::LegacyEvents("")});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply->str);
  return reply->integer;
}

}  // namespace signpost::intake
