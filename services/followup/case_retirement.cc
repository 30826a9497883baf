#include "services/followup/case_retirement.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/followup/retire_cases.lua.h"

namespace signpost::followup {

CaseRetirement::CaseRetirement(redis::RedisClient& redis, RedisKeys keys, CaseRetention retention)
    : redis_(redis),
      keys_(std::move(keys)),
      retention_(std::move(retention)),
      retire_(std::string(lua::kRetireCases)) {}

absl::StatusOr<int64_t> CaseRetirement::RetireDue(int batch) {
  auto reply = retire_.Run(redis_, {keys_.Retention()},
                           {absl::StrCat(absl::ToUnixMillis(retention_.clock())),
                            absl::StrCat(absl::ToInt64Milliseconds(retention_.tombstone)),
                            absl::StrCat(batch), keys_.Case(""), keys_.Task("")});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply->str);
  return reply->integer;
}

absl::StatusOr<std::optional<absl::Time>> CaseRetirement::RemovedAt(
    const std::string& referral_id) {
  auto replies = redis_.Pipeline(
      {{"EXISTS", keys_.Case(referral_id)}, {"ZSCORE", keys_.Retention(), referral_id}});
  if (!replies.ok()) return replies.status();
  int64_t score = 0;
  if ((*replies)[0].integer == 1 || !absl::SimpleAtoi((*replies)[1].str, &score)) {
    return std::optional<absl::Time>();
  }
  // A tombstone's score is when the case was due to leave plus the tombstone time.
  return std::optional<absl::Time>(absl::FromUnixMillis(score) - retention_.tombstone);
}

absl::Status CaseRetirement::NoLongerHeld(const std::string& referral_id,
                                          absl::Time removed_at) const {
  return absl::FailedPreconditionError(
      absl::StrCat("case of referral ", referral_id, " is no longer held: a case leaves follow-up ",
                   absl::ToInt64Hours(retention_.closed) / 24, " days after it ended (removed ",
                   absl::FormatTime("%Y-%m-%d", removed_at, absl::UTCTimeZone()),
                   "); its events remain on the Signpost topics"));
}

}  // namespace signpost::followup
