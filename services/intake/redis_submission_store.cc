#include "services/intake/redis_submission_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace signpost::intake {
namespace {

// KEYS[1] submission; ARGV fingerprint, new referral id, owner, now ms, lease ms, retention s,
// then the earlier fingerprints of the same content (none or several). Replies {kind, referral id,
// lease until ms, event}: a claim taken over from an earlier attempt carries the event that attempt
// recorded, if any.
const redis::LuaScript& ClaimScript() {
  static const redis::LuaScript kScript(R"lua(
local h = redis.call('HMGET', KEYS[1], 'fp', 'rid', 'state', 'lease_until', 'event')
local now = tonumber(ARGV[4])
if not h[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'rid', ARGV[2], 'state', 'pending',
             'owner', ARGV[3], 'lease_until', now + tonumber(ARGV[5]))
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return {'claimed', ARGV[2], '0', ''}
end
if h[1] ~= ARGV[1] then
  local earlier = false
  for i = 7, #ARGV do
    if ARGV[i] ~= '' and h[1] == ARGV[i] then earlier = true end
  end
  if not earlier then return {'conflict', h[2], '0', ''} end
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
end
if h[3] == 'published' then return {'duplicate', h[2], '0', ''} end
if tonumber(h[4]) <= now then
  redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'lease_until', now + tonumber(ARGV[5]))
  return {'claimed', h[2], '0', h[5] or ''}
end
return {'in_progress', h[2], tostring(h[4]), ''}
)lua");
  return kScript;
}

// KEYS[1] submission; ARGV referral id, serialized event. The first event recorded for a
// submission is the only one ever published for it. Replies {'recorded'}, {'earlier', event},
// {'published'} (nothing to send), or {'gone'} (not, or no longer, under that referral id).
const redis::LuaScript& RecordEventScript() {
  static const redis::LuaScript kScript(R"lua(
local h = redis.call('HMGET', KEYS[1], 'rid', 'state', 'event')
if h[1] ~= ARGV[1] then return {'gone'} end
if h[2] == 'published' then return {'published'} end
if h[3] then return {'earlier', h[3]} end
redis.call('HSET', KEYS[1], 'event', ARGV[2])
return {'recorded'}
)lua");
  return kScript;
}

// KEYS[1] submission; ARGV owner, new state ('published' or 'released'). Once published, the
// recorded event is not needed again (a resubmission is a duplicate): it is forgotten.
const redis::LuaScript& FinishScript() {
  static const redis::LuaScript kScript(R"lua(
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[2] == 'published' then
  redis.call('HSET', KEYS[1], 'state', 'published')
  redis.call('HDEL', KEYS[1], 'event')
else
  redis.call('HSET', KEYS[1], 'lease_until', 0)
end
return 1
)lua");
  return kScript;
}

}  // namespace

RedisSubmissionStore::RedisSubmissionStore(redis::RedisClient& redis, absl::Duration retention)
    : redis_(redis), retention_(retention) {}

std::string RedisSubmissionStore::RedisKey(const SubmissionKey& key) {
  // Validation keeps '|' out of source referral ids and source systems, so this is unambiguous.
  return absl::StrCat("signpost:intake:submission:", key.source_system, "|",
                      key.source_referral_id);
}

absl::StatusOr<Claim> RedisSubmissionStore::TryClaim(const SubmissionKey& key,
                                                     const Fingerprint& fingerprint,
                                                     const std::string& new_referral_id,
                                                     const std::string& owner, absl::Time now,
                                                     absl::Duration lease) {
  std::vector<std::string> args = {fingerprint.content,
                                   new_referral_id,
                                   owner,
                                   std::to_string(absl::ToUnixMillis(now)),
                                   std::to_string(absl::ToInt64Milliseconds(lease)),
                                   std::to_string(absl::ToInt64Seconds(retention_))};
  args.insert(args.end(), fingerprint.earlier.begin(), fingerprint.earlier.end());
  auto reply = ClaimScript().Run(redis_, {RedisKey(key)}, args);
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 4) return absl::InternalError("claim script: unexpected reply");
  const std::string& kind = reply->elements[0].str;
  Claim claim{Claim::Kind::kInProgress, reply->elements[1].str};
  int64_t held_until_ms = 0;
  if (absl::SimpleAtoi(reply->elements[2].str, &held_until_ms)) {
    claim.held_until = absl::FromUnixMillis(held_until_ms);
  }
  if (kind == "claimed") {
    claim.kind = Claim::Kind::kClaimed;
    claim.recorded_event = std::move(reply->elements[3].str);
  } else if (kind == "duplicate")
    claim.kind = Claim::Kind::kDuplicate;
  else if (kind == "conflict")
    claim.kind = Claim::Kind::kConflict;
  return claim;
}

absl::StatusOr<std::optional<std::string>> RedisSubmissionStore::RecordEvent(
    const SubmissionKey& key, const std::string& referral_id, std::string event) {
  auto reply = RecordEventScript().Run(redis_, {RedisKey(key)}, {referral_id, event});
  if (!reply.ok()) return reply.status();
  if (reply->elements.empty()) return absl::InternalError("record script: unexpected reply");
  const std::string& kind = reply->elements[0].str;
  if (kind == "recorded") return std::optional<std::string>(std::move(event));
  if (kind == "earlier" && reply->elements.size() == 2) {
    return std::optional<std::string>(std::move(reply->elements[1].str));
  }
  if (kind == "published") return std::optional<std::string>();
  if (kind == "gone") {
    return absl::FailedPreconditionError(absl::StrCat("submission ", key.source_system, "/",
                                                      key.source_referral_id,
                                                      " is no longer recorded as ", referral_id));
  }
  return absl::InternalError("record script: unexpected reply");
}

absl::Status RedisSubmissionStore::MarkPublished(const SubmissionKey& key,
                                                 const std::string& owner) {
  return FinishScript().Run(redis_, {RedisKey(key)}, {owner, "published"}).status();
}

absl::Status RedisSubmissionStore::MarkPublishedMany(
    const std::vector<std::pair<SubmissionKey, std::string>>& keys_and_owners) {
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(keys_and_owners.size());
  for (const auto& [key, owner] : keys_and_owners) {
    calls.push_back({{RedisKey(key)}, {owner, "published"}});
  }
  auto replies = FinishScript().RunMany(redis_, calls);
  if (!replies.ok()) return replies.status();
  for (const auto& reply : *replies) {
    if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
  }
  return absl::OkStatus();
}

absl::Status RedisSubmissionStore::Release(const SubmissionKey& key, const std::string& owner) {
  return FinishScript().Run(redis_, {RedisKey(key)}, {owner, "released"}).status();
}

absl::StatusOr<std::optional<std::string>> RedisSubmissionStore::FindReferralId(
    const SubmissionKey& key) {
  auto reply = redis_.Execute({"HGET", RedisKey(key), "rid"});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<std::string>();
  return std::optional<std::string>(reply->str);
}

}  // namespace signpost::intake
