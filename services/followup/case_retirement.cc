#include "services/followup/case_retirement.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/events/case_states.h"
#include "services/followup/index_older_cases.lua.h"
#include "services/followup/retire_cases.lua.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

CaseRetirement::CaseRetirement(redis::RedisClient& redis, RedisKeys keys, CaseRetention retention)
    : redis_(redis),
      keys_(std::move(keys)),
      retention_(std::move(retention)),
      retire_(std::string(lua::kRetireCases)),
      index_older_(std::string(lua::kIndexOlderCases)) {}

absl::StatusOr<int64_t> CaseRetirement::RetireDue(int batch) {
  auto reply = retire_.Run(redis_, {keys_.Retention()},
                           {absl::StrCat(absl::ToUnixMillis(retention_.clock())),
                            absl::StrCat(absl::ToInt64Milliseconds(retention_.tombstone)),
                            absl::StrCat(batch), keys_.Case(""), keys_.Task("")});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply->str);
  return reply->integer;
}

absl::StatusOr<bool> CaseRetirement::IndexOlderCases(std::string& cursor, bool& tasks, int batch) {
  const std::string prefix = tasks ? keys_.Task("") : keys_.Case("");
  auto scan = redis_.Execute(
      {"SCAN", cursor, "MATCH", absl::StrCat(prefix, "*"), "COUNT", absl::StrCat(batch)});
  if (!scan.ok()) return scan.status();
  if (scan->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
  cursor = scan->elements[0].str;
  std::vector<std::string> ids;
  for (const auto& key : scan->elements[1].elements) ids.push_back(key.str.substr(prefix.size()));
  if (tasks && !ids.empty()) {
    std::vector<std::string> args = {keys_.Case(""), keys_.Task("")};
    args.insert(args.end(), ids.begin(), ids.end());
    auto linked = index_older_.Run(redis_, {}, args);
    if (!linked.ok()) return linked.status();
  } else if (!ids.empty()) {
    std::vector<redis::Command> reads;
    for (const auto& id : ids) reads.push_back({"HGET", keys_.Case(id), "b"});
    auto records = redis_.Pipeline(reads);
    if (!records.ok()) return records.status();
    std::vector<redis::Command> adds;
    for (size_t i = 0; i < ids.size(); ++i) {
      v1::Case kase;
      if ((*records)[i].is_nil() || !kase.ParseFromString((*records)[i].str) ||
          !events::IsCaseEnded(kase.state())) {
        continue;
      }
      const absl::Time changed = absl::FromUnixSeconds(kase.updated_at().seconds());
      adds.push_back({"ZADD", keys_.Retention(), "NX",
                      absl::StrCat(absl::ToUnixMillis(changed + retention_.closed)), ids[i]});
    }
    if (!adds.empty()) {
      auto added = redis_.Pipeline(adds);
      if (!added.ok()) return added.status();
    }
  }
  if (cursor != "0") return false;
  if (tasks) return true;
  tasks = true;  // the cases done: now their tasks
  return false;
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
