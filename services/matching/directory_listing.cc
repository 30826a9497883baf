#include "services/matching/directory_listing.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/matching/redis_keys.h"

namespace signpost::matching {

absl::StatusOr<std::vector<std::string>> DirectoryListing::Ids() {
  const std::string prefix = keys::Resource("");
  const std::string pattern = absl::StrCat(prefix, "*");
  std::vector<std::string> ids;
  std::string cursor = "0";
  do {
    auto page =
        redis_.Execute({"SCAN", cursor, "MATCH", pattern, "COUNT", absl::StrCat(kIdsPerScan)});
    if (!page.ok()) return page.status();
    if (page->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
    cursor = page->elements[0].str;
    for (const redis::Reply& key : page->elements[1].elements) {
      if (absl::StartsWith(key.str, prefix)) ids.push_back(key.str.substr(prefix.size()));
    }
  } while (cursor != "0");
  // SCAN may return a key twice and in no order.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

absl::StatusOr<std::vector<v1::Resource>> DirectoryListing::Records(
    const std::vector<std::string>& ids) {
  std::vector<v1::Resource> records;
  records.reserve(ids.size());
  for (size_t from = 0; from < ids.size(); from += kRecordsPerRead) {
    redis::Command mget = {"MGET"};
    const size_t to = std::min(ids.size(), from + kRecordsPerRead);
    for (size_t i = from; i < to; ++i) mget.push_back(keys::Resource(ids[i]));
    auto reply = redis_.Execute(mget);
    if (!reply.ok()) return reply.status();
    if (reply->elements.size() != to - from) return absl::InternalError("unexpected MGET reply");
    for (size_t i = 0; i < reply->elements.size(); ++i) {
      const redis::Reply& value = reply->elements[i];
      if (value.is_nil()) continue;  // removed since it was listed
      v1::Resource& r = records.emplace_back();
      if (!r.ParseFromString(value.str)) {
        return absl::DataLossError(absl::StrCat("cached resource ", ids[from + i], " is corrupt"));
      }
    }
  }
  return records;
}

}  // namespace signpost::matching
