#include "services/matching/resource_write.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/redis/lua_script.h"
#include "services/matching/candidate_filter.h"
#include "services/matching/redis_keys.h"
#include "services/matching/write_resource.lua.h"

namespace signpost::matching {
namespace {

bool IsRemote(const v1::Resource& r) {
  return Offers(r, v1::DELIVERY_MODE_ONLINE) || Offers(r, v1::DELIVERY_MODE_PHONE);
}

// Remote resources are not bounded by distance, so a region or a nation may have thousands per
// need: the index keeps them ordered by this, and a query reads the best few.
double RemoteQuality(const v1::Resource& r) {
  double q = 0;
  if (r.status() == v1::RESOURCE_STATUS_ACTIVE) q += 100;
  const auto& c = r.capacity();
  if (c.places_total() == 0 || c.places_available() > 0) q += 10;
  if (c.places_total() > 0 && c.places_available() == 0 && c.waitlist_open()) q += 5;
  if (r.free()) q += 2;
  for (int mode : r.delivery_modes()) {
    if (mode == v1::DELIVERY_MODE_PHONE) q += 1;  // usable by the digitally excluded too
  }
  return q;
}

// The start of write_resource.lua's refusal of an index key it was not given in KEYS.
constexpr absl::string_view kUndeclaredIndexKey = "index key ";

// The script's keys: the resource's own, the fence's, then every index key an entry may name,
// old or new: each need category's (the directory's checks refuse a category outside the enum)
// and the record's own.
std::vector<std::string> WriteKeys(const std::string& id, const v1::Resource* record) {
  std::vector<std::string> keys = {keys::Resource(id), keys::Entries(id),      keys::Version(id),
                                   keys::Stamp(id),    keys::Reservations(id), keys::kGeneration,
                                   keys::kClearing,    keys::kStampCounter,    keys::kStampEpoch};
  const auto* needs = v1::NeedCategory_descriptor();
  for (int i = 0; i < needs->value_count(); ++i) {
    keys.push_back(keys::Geo(needs->value(i)->number()));
    keys.push_back(keys::Remote(needs->value(i)->number()));
  }
  if (record != nullptr) {
    for (int need : record->need_categories()) {
      if (needs->FindValueByNumber(need) != nullptr) continue;
      keys.push_back(keys::Geo(need));
      keys.push_back(keys::Remote(need));
    }
  }
  return keys;
}

std::vector<std::string> WriteArgs(const ResourceWrite& w) {
  std::vector<std::string> args = {w.load_generation, w.taking_for, w.read_stamp};
  if (w.record == nullptr) {
    args.insert(args.end(), {"", "", ""});
    return args;
  }
  const v1::Resource& r = *w.record;
  if (r.has_updated_at()) {
    args.push_back(absl::StrCat(r.updated_at().seconds()));
    args.push_back(absl::StrCat(r.updated_at().nanos()));
  } else {
    args.insert(args.end(), {"", ""});
  }
  args.push_back(r.SerializeAsString());
  for (int need : r.need_categories()) {
    for (int i = 0; i < r.locations_size(); ++i) {
      const auto& loc = r.locations(i);
      if (loc.type() == v1::LOCATION_TYPE_VIRTUAL || !loc.has_point()) continue;
      args.insert(args.end(),
                  {"g", keys::Geo(need), absl::StrFormat("%.7f", loc.point().longitude()),
                   absl::StrFormat("%.7f", loc.point().latitude()), absl::StrCat(r.id(), "|", i)});
    }
    if (IsRemote(r)) {
      args.insert(args.end(), {"r", keys::Remote(need), absl::StrCat(RemoteQuality(r)), r.id()});
    }
  }
  return args;
}

}  // namespace

absl::Status ScriptErrorStatus(const std::string& error) {
  if (absl::StartsWith(error, "CLEARING ")) {
    return absl::UnavailableError(absl::StrCat("redis: ", error, ": try again shortly"));
  }
  if (absl::StartsWith(error, "STALEGENERATION ")) {
    return absl::AbortedError(
        absl::StrCat("redis: ", error, ": read the directory topic again from its beginning"));
  }
  return redis::ErrorReplyStatus(error);
}

absl::StatusOr<redis::Reply> WriteResource(redis::RedisClient& redis, const ResourceWrite& write) {
  static const redis::LuaScript kScript{std::string(lua::kWriteResource)};
  std::vector<std::string> keys = WriteKeys(write.resource_id, write.record);
  const std::vector<std::string> args = WriteArgs(write);
  // The cached record's entries may name an index this build does not know (a need category of a
  // newer version, during a rolling upgrade): the script refuses before writing anything, and is
  // run again with the keys its entries name, read now. A few turns, in case they change between.
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    auto replies = kScript.RunMany(redis, {{keys, args}});
    if (!replies.ok()) return replies.status();
    redis::Reply& reply = replies->front();
    if (reply.type != redis::Reply::Type::kError) return std::move(reply);
    if (!absl::StartsWith(reply.str, kUndeclaredIndexKey) || attempt == kAttempts) {
      return ScriptErrorStatus(reply.str);
    }
    auto entries = redis.Execute({"SMEMBERS", keys::Entries(write.resource_id)});
    if (!entries.ok()) return entries.status();
    for (const redis::Reply& entry : entries->elements) {
      // "g|r\t<index key>\t<member>"
      std::vector<absl::string_view> parts = absl::StrSplit(entry.str, absl::MaxSplits('\t', 2));
      if (parts.size() == 3) keys.emplace_back(parts[1]);
    }
  }
}

}  // namespace signpost::matching
