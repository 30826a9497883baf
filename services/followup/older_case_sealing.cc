#include "services/followup/older_case_sealing.h"

#include "absl/strings/str_cat.h"
#include "services/followup/seal_older_case.lua.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

OlderCaseSealing::OlderCaseSealing(redis::RedisClient& redis, RedisKeys keys,
                                   const CaseDetailsSeal& seal)
    : redis_(redis),
      keys_(std::move(keys)),
      seal_(seal),
      seal_older_(std::string(lua::kSealOlderCase)) {}

absl::StatusOr<bool> OlderCaseSealing::SealStep(std::string& cursor, int batch) {
  const std::string prefix = keys_.Case("");
  auto scan = redis_.Execute(
      {"SCAN", cursor, "MATCH", absl::StrCat(prefix, "*"), "COUNT", absl::StrCat(batch)});
  if (!scan.ok()) return scan.status();
  if (scan->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
  std::vector<std::string> keys;
  for (const auto& key : scan->elements[1].elements) keys.push_back(key.str);
  if (!keys.empty()) {
    std::vector<redis::Command> reads;
    for (const auto& key : keys) reads.push_back({"HMGET", key, "v", "b"});
    auto records = redis_.Pipeline(reads);
    if (!records.ok()) return records.status();
    std::vector<redis::LuaScript::Call> writes;
    for (size_t i = 0; i < keys.size() && i < records->size(); ++i) {
      const redis::Reply& record = (*records)[i];
      if (record.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(record.str);
      if (record.elements.size() != 2 || record.elements[0].is_nil() ||
          record.elements[1].is_nil()) {
        continue;  // gone since the scan, or not a case record
      }
      v1::Case kase;
      if (!kase.ParseFromString(record.elements[1].str)) continue;          // its reader reports it
      if (!kase.has_identity() && kase.referral_notes().empty()) continue;  // sealed, or purged
      if (absl::Status s = seal_.Seal(kase); !s.ok()) return s;
      writes.push_back({{keys[i]}, {record.elements[0].str, kase.SerializeAsString()}});
    }
    if (!writes.empty()) {
      auto written = seal_older_.RunMany(redis_, writes);
      if (!written.ok()) return written.status();
      for (const auto& reply : *written) {
        if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
        sealed_ += reply.integer;
      }
    }
  }
  cursor = scan->elements[0].str;
  return cursor == "0";
}

}  // namespace signpost::followup
