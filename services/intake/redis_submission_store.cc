#include "services/intake/redis_submission_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/intake/claim_submission.lua.h"
#include "services/intake/finish_submission.lua.h"
#include "services/intake/record_submission_event.lua.h"
#include "services/intake/redis_keys.h"

namespace signpost::intake {
namespace {

// Each script's comment (in its .lua file) says what it takes and answers.
const redis::LuaScript& ClaimScript() {
  static const redis::LuaScript kScript{std::string(lua::kClaimSubmission)};
  return kScript;
}

const redis::LuaScript& RecordEventScript() {
  static const redis::LuaScript kScript{std::string(lua::kRecordSubmissionEvent)};
  return kScript;
}

const redis::LuaScript& FinishScript() {
  static const redis::LuaScript kScript{std::string(lua::kFinishSubmission)};
  return kScript;
}

// The claim script's reply (see claim_submission.lua).
absl::StatusOr<Claim> ClaimOf(redis::Reply& reply) {
  if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
  if (reply.elements.size() != 5) return absl::InternalError("claim script: unexpected reply");
  const std::string& kind = reply.elements[0].str;
  Claim claim{Claim::Kind::kInProgress, std::move(reply.elements[1].str)};
  int64_t held_until_ms = 0;
  if (absl::SimpleAtoi(reply.elements[2].str, &held_until_ms)) {
    claim.held_until = absl::FromUnixMillis(held_until_ms);
  }
  if (kind == "claimed") {
    claim.kind = Claim::Kind::kClaimed;
    claim.recorded_event = std::move(reply.elements[3].str);
    claim.proposal_taken = reply.elements[4].str == "new";
  } else if (kind == "duplicate") {
    claim.kind = Claim::Kind::kDuplicate;
  } else if (kind == "conflict") {
    claim.kind = Claim::Kind::kConflict;
  }
  return claim;
}

}  // namespace

RedisSubmissionStore::RedisSubmissionStore(redis::RedisClient& redis, absl::Duration retention)
    : redis_(redis), retention_(retention) {}

std::string RedisSubmissionStore::RedisKey(const SubmissionKey& key) {
  return redis_keys::Submission(key.source_system, key.source_referral_id);
}

absl::StatusOr<Claim> RedisSubmissionStore::TryClaim(const SubmissionKey& key,
                                                     const Fingerprint& fingerprint,
                                                     const Proposal& proposal,
                                                     const std::string& owner, absl::Time now,
                                                     absl::Duration lease) {
  return std::move(TryClaimMany({{key, fingerprint, proposal, owner}}, now, lease).front());
}

std::vector<absl::StatusOr<Claim>> RedisSubmissionStore::TryClaimMany(
    const std::vector<ClaimRequest>& requests, absl::Time now, absl::Duration lease) {
  const std::string now_ms = std::to_string(absl::ToUnixMillis(now));
  const std::string lease_ms = std::to_string(absl::ToInt64Milliseconds(lease));
  const std::string retention_s = std::to_string(absl::ToInt64Seconds(retention_));
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(requests.size());
  for (const auto& r : requests) {
    redis::LuaScript::Call& call = calls.emplace_back();
    call.keys = {RedisKey(r.key)};
    call.args = {r.fingerprint.content, r.proposal.referral_id, r.owner, now_ms, lease_ms,
                 retention_s,           r.proposal.event};
    call.args.insert(call.args.end(), r.fingerprint.earlier.begin(), r.fingerprint.earlier.end());
  }
  std::vector<absl::StatusOr<Claim>> claims;
  claims.reserve(requests.size());
  auto replies = ClaimScript().RunMany(redis_, calls);
  if (!replies.ok()) {
    claims.assign(requests.size(), replies.status());
    return claims;
  }
  for (auto& reply : *replies) claims.push_back(ClaimOf(reply));
  return claims;
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
