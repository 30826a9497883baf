#include "services/matching/directory_cache.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/redis/lua_script.h"
#include "services/matching/candidate_filter.h"

namespace signpost::matching {
namespace {

constexpr char kLoaded[] = "signpost:dir:loaded";
// Bumped whenever the cache's keys change shape: a cache of another layout is cleared and rebuilt
// from the topic rather than read or written with the wrong types.
constexpr char kLayoutVersion[] = "3";
std::string ResourceKey(const std::string& id) {
  return absl::StrCat("signpost:dir:resource:", id);
}
std::string StampKey(const std::string& id) { return absl::StrCat("signpost:dir:stamp:", id); }
std::string GeoKey(int need) { return absl::StrCat("signpost:dir:geo:", need); }
std::string RemoteKey(int need) { return absl::StrCat("signpost:dir:remote:", need); }
std::string WorkerKey(const std::string& id) { return absl::StrCat("signpost:roster:worker:", id); }
std::string PracticeKey(const std::string& ods) {
  return absl::StrCat("signpost:roster:practice:", ods);
}
std::string NetworkWorkersKey(const std::string& network) {
  return absl::StrCat("signpost:roster:network-workers:", network);
}
std::string CaseloadKey(const std::string& worker) {
  return absl::StrCat("signpost:roster:caseload:", worker);
}
std::string AssignmentKey(const std::string& referral) {
  return absl::StrCat("signpost:roster:assignment:", referral);
}
std::string ReleasedKey(const std::string& referral) {
  return absl::StrCat("signpost:roster:released:", referral);
}

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

std::string Member(const v1::Resource& r, int location) {
  return absl::StrCat(r.id(), "|", location);
}

absl::Status FirstError(const absl::StatusOr<std::vector<redis::Reply>>& replies) {
  if (!replies.ok()) return replies.status();
  for (const auto& reply : *replies) {
    if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
  }
  return absl::OkStatus();
}

// Replaces (or with an empty record removes) a resource and its index entries in one atomic
// step. Writes reach the cache twice (directly from the directory service, and again from the
// topic), possibly from several instances: a version older than the cached one changes nothing.
// KEYS: record, its index entries (a set), its version, its stamp. ARGV: version seconds and nanos
// ("" for none), record bytes ("" to remove), then index entries: g key lon lat member | r key
// score member. Returns the new stamp when it wrote the record, else a number.
const redis::LuaScript& ReplaceScript() {
  static const redis::LuaScript kScript(R"lua(
local v = redis.call('GET', KEYS[3])
if v and ARGV[1] ~= '' then
  local s, n = string.match(v, '^(%-?%d+) (%d+)$')
  s = tonumber(s)
  n = tonumber(n)
  local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
  if s > ns or (s == ns and n > nn) then return 0 end
end
for _, e in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key, member = string.match(e, '^%a\t([^\t]+)\t(.+)$')
  if key then redis.call('ZREM', key, member) end
end
redis.call('DEL', KEYS[2])
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
  return 1
end
redis.call('SET', KEYS[1], ARGV[3])
-- A stamp per write, unique across cache rebuilds (the epoch is set when the counter starts). It
-- ends every index member ("<id>|<location>|<stamp>", "<id>|<stamp>"), so a search tells which
-- record version each hit is and in-process copies know whether they are current.
local n = redis.call('INCR', 'signpost:dir:stamps')
if n == 1 then
  local t = redis.call('TIME')
  redis.call('SET', 'signpost:dir:epoch', t[1] .. t[2])
end
local stamp = redis.call('GET', 'signpost:dir:epoch') .. '.' .. n
redis.call('SET', KEYS[4], stamp)
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
else
  redis.call('DEL', KEYS[3])
end
local i = 4
while i <= #ARGV do
  if ARGV[i] == 'g' then
    local member = ARGV[i + 4] .. '|' .. stamp
    redis.call('GEOADD', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], member)
    redis.call('SADD', KEYS[2], 'g\t' .. ARGV[i + 1] .. '\t' .. member)
    i = i + 5
  else
    local member = ARGV[i + 3] .. '|' .. stamp
    redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], member)
    redis.call('SADD', KEYS[2], 'r\t' .. ARGV[i + 1] .. '\t' .. member)
    i = i + 4
  end
end
return stamp
)lua");
  return kScript;
}

std::vector<std::string> ReplaceKeys(const std::string& id) {
  return {ResourceKey(id), absl::StrCat("signpost:dir:entries:", id),
          absl::StrCat("signpost:dir:version:", id), StampKey(id)};
}

}  // namespace

absl::Status DirectoryCache::PutResource(const v1::Resource& r) {
  std::vector<std::string> args;
  if (r.has_updated_at()) {
    args = {absl::StrCat(r.updated_at().seconds()), absl::StrCat(r.updated_at().nanos())};
  } else {
    args = {"", ""};
  }
  args.push_back(r.SerializeAsString());
  for (int need : r.need_categories()) {
    for (int i = 0; i < r.locations_size(); ++i) {
      const auto& loc = r.locations(i);
      if (loc.type() == v1::LOCATION_TYPE_VIRTUAL || !loc.has_point()) continue;
      args.insert(args.end(), {"g", GeoKey(need), absl::StrFormat("%.7f", loc.point().longitude()),
                               absl::StrFormat("%.7f", loc.point().latitude()), Member(r, i)});
    }
    if (IsRemote(r)) {
      args.insert(args.end(), {"r", RemoteKey(need), absl::StrCat(RemoteQuality(r)), r.id()});
    }
  }
  auto written = ReplaceScript().Run(redis_, ReplaceKeys(r.id()), args);
  if (!written.ok()) return written.status();
  // This instance will read it back soon (matching follows the topic it writes): keep it parsed.
  if (written->type == redis::Reply::Type::kString) {
    memo_.Put(r.id(), written->str, std::make_shared<v1::Resource>(r));
  }
  return absl::OkStatus();
}

absl::Status DirectoryCache::RemoveResource(const std::string& id) {
  return ReplaceScript().Run(redis_, ReplaceKeys(id), {"", "", ""}).status();
}

absl::StatusOr<std::optional<v1::Resource>> DirectoryCache::GetResource(const std::string& id) {
  auto reply = redis_.Execute({"GET", ResourceKey(id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<v1::Resource>();
  v1::Resource r;
  if (!r.ParseFromString(reply->str)) {
    return absl::DataLossError(absl::StrCat("cached resource ", id, " is corrupt"));
  }
  return std::optional<v1::Resource>(std::move(r));
}

absl::Status DirectoryCache::PutLinkWorker(const v1::LinkWorker& w) {
  return FirstError(redis_.Pipeline({{"SET", WorkerKey(w.id()), w.SerializeAsString()},
                                     {"SADD", NetworkWorkersKey(w.network_id()), w.id()}}));
}

absl::Status DirectoryCache::PutNetwork(const v1::Network& n) {
  std::vector<redis::Command> commands;
  for (const auto& ods : n.practice_ods_codes()) {
    commands.push_back({"SET", PracticeKey(ods), n.id()});
  }
  if (commands.empty()) return absl::OkStatus();
  return FirstError(redis_.Pipeline(commands));
}

absl::StatusOr<std::vector<std::vector<Found>>> DirectoryCache::Candidates(
    const std::vector<CandidateQuery>& queries) {
  auto read = Read(queries, nullptr);
  if (!read.ok()) return read.status();
  return std::move(read->candidates);
}

absl::StatusOr<DirectoryCache::Lookup> DirectoryCache::CandidatesAndTeam(
    const std::vector<CandidateQuery>& queries, const std::string& practice_ods_code) {
  return Read(queries, &practice_ods_code);
}

namespace {

// The practice's network, its link workers and their caseloads.
const redis::LuaScript& TeamScript() {
  static const redis::LuaScript kScript(R"lua(
local network = redis.call('GET', KEYS[1])
if not network then return {} end
local out = {network}
for _, id in ipairs(redis.call('SMEMBERS', ARGV[1] .. network)) do
  table.insert(out, redis.call('GET', ARGV[2] .. id) or '')
  table.insert(out, redis.call('GET', ARGV[3] .. id) or '0')
end
return out
)lua");
  return kScript;
}

DirectoryCache::Team ParseTeam(const redis::Reply& reply) {
  DirectoryCache::Team team;
  const auto& e = reply.elements;
  if (e.empty()) return team;
  team.network_id = e[0].str;
  for (size_t i = 1; i + 1 < e.size(); i += 2) {
    v1::LinkWorker w;
    if (e[i].str.empty() || !w.ParseFromString(e[i].str)) continue;
    int load = 0;
    (void)absl::SimpleAtoi(e[i + 1].str, &load);
    team.caseloads[w.id()] = load;
    team.workers.push_back(std::move(w));
  }
  // SMEMBERS has no order: keep the team in a stable order for deterministic assignment.
  std::sort(team.workers.begin(), team.workers.end(),
            [](const v1::LinkWorker& a, const v1::LinkWorker& b) { return a.id() < b.id(); });
  return team;
}

}  // namespace

absl::StatusOr<DirectoryCache::Lookup> DirectoryCache::Read(
    const std::vector<CandidateQuery>& queries, const std::string* practice_ods_code) {
  // One pipeline for all needs (per query the geo search and the best remote ones) and the team.
  // Members end with their record's stamp, so records come from the memo when it holds that
  // version; only the others are fetched, in a second round trip.
  std::vector<redis::Command> commands;
  for (const auto& q : queries) {
    if (q.point) {
      commands.push_back(
          {"GEOSEARCH", GeoKey(q.need), "FROMLONLAT", absl::StrFormat("%.7f", q.point->longitude()),
           absl::StrFormat("%.7f", q.point->latitude()), "BYRADIUS", absl::StrCat(q.radius_km),
           "km", "ASC", "COUNT", absl::StrCat(q.limit), "WITHDIST"});
    }
    commands.push_back({"ZREVRANGE", RemoteKey(q.need), "0", absl::StrCat(q.remote_limit - 1)});
  }
  const std::vector<std::string> team_keys =
      practice_ods_code ? std::vector<std::string>{PracticeKey(*practice_ods_code)}
                        : std::vector<std::string>{};
  const std::vector<std::string> team_args = {NetworkWorkersKey(""), WorkerKey(""),
                                              CaseloadKey("")};
  if (practice_ods_code) commands.push_back(TeamScript().ShaCommand(team_keys, team_args));
  auto replies = redis_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  Lookup out;
  if (practice_ods_code) {
    redis::Reply team_reply = std::move(replies->back());
    replies->pop_back();
    if (redis::LuaScript::IsNoScript(team_reply)) {  // a restarted server: send the body once
      auto again = TeamScript().Run(redis_, team_keys, team_args);
      if (!again.ok()) return again.status();
      team_reply = std::move(*again);
    } else if (team_reply.type == redis::Reply::Type::kError) {
      return redis::ErrorReplyStatus(team_reply.str);
    }
    out.team = ParseTeam(team_reply);
  }
  if (absl::Status s = FirstError(replies); !s.ok()) return s;
  out.candidates.resize(queries.size());
  // Hits whose record is not in the memo at its current stamp: (query, position, id).
  std::vector<std::tuple<size_t, size_t, std::string>> missing;
  auto add = [&](size_t q, absl::string_view member, Found found) {
    size_t first = member.find('|'), last = member.rfind('|');
    if (first == absl::string_view::npos) return;
    std::string id(member.substr(0, first));
    found.resource = memo_.Find(id, std::string(member.substr(last + 1)));
    if (!found.resource) missing.emplace_back(q, out.candidates[q].size(), std::move(id));
    out.candidates[q].push_back(std::move(found));
  };
  size_t at = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (queries[q].point) {
      for (const auto& hit : (*replies)[at++].elements) {
        Found found;
        if (hit.elements.size() != 2 ||
            !absl::SimpleAtod(hit.elements[1].str, &found.distance_km)) {
          continue;
        }
        add(q, hit.elements[0].str, std::move(found));
      }
    }
    for (const auto& member : (*replies)[at++].elements) {
      Found found;
      found.remote = true;
      add(q, member.str, std::move(found));
    }
  }
  if (!missing.empty()) {
    std::vector<redis::Command> fetch;
    // The stamp before the record: a write landing between the two leaves a newer record under
    // an older stamp (a later miss), never an older record under the current stamp.
    for (const auto& [q, k, id] : missing) {
      fetch.push_back({"GET", StampKey(id)});
      fetch.push_back({"GET", ResourceKey(id)});
    }
    auto records = redis_.Pipeline(fetch);
    if (!records.ok()) return records.status();
    for (size_t m = 0; m < missing.size(); ++m) {
      const auto& [q, k, id] = missing[m];
      const redis::Reply& record = (*records)[2 * m + 1];
      auto resource = std::make_shared<v1::Resource>();
      if (record.is_nil() || !resource->ParseFromString(record.str)) continue;  // removed
      memo_.Put(id, (*records)[2 * m].str, resource);
      out.candidates[q][k].resource = std::move(resource);
    }
  }
  // Drop hits whose record was removed between the two round trips.
  for (auto& found : out.candidates) {
    found.erase(
        std::remove_if(found.begin(), found.end(), [](const Found& f) { return !f.resource; }),
        found.end());
  }
  return out;
}

absl::StatusOr<std::string> DirectoryCache::AssignOnce(const std::string& referral_id,
                                                       const std::string& worker_id) {
  static const redis::LuaScript kScript(R"lua(
local previous = redis.call('GET', KEYS[1])
if previous then return previous end
redis.call('SET', KEYS[1], ARGV[1])
-- A case already ended (its end overtook the match) takes no place in a caseload.
if ARGV[1] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then redis.call('INCR', KEYS[2]) end
return ARGV[1]
)lua");
  auto reply = kScript.Run(
      redis_, {AssignmentKey(referral_id), CaseloadKey(worker_id), ReleasedKey(referral_id)},
      {worker_id});
  if (!reply.ok()) return reply.status();
  return reply->str;
}

absl::StatusOr<std::optional<std::string>> DirectoryCache::AssignedWorker(
    const std::string& referral_id) {
  auto reply = redis_.Execute({"GET", AssignmentKey(referral_id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  return reply->str;
}

absl::StatusOr<bool> DirectoryCache::ReleaseAssignment(const std::string& referral_id) {
  static const redis::LuaScript kScript(R"lua(
if redis.call('SETNX', KEYS[2], '1') == 0 then return 0 end
local worker = redis.call('GET', KEYS[1])
if worker and worker ~= '' then
  local key = ARGV[1] .. worker
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 1
)lua");
  auto reply = kScript.Run(redis_, {AssignmentKey(referral_id), ReleasedKey(referral_id)},
                           {CaseloadKey("")});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::StatusOr<bool> DirectoryCache::MoveAssignment(const std::string& referral_id,
                                                    const std::string& to_worker_id) {
  static const redis::LuaScript kScript(R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local worker = redis.call('GET', KEYS[1])
if worker == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if worker and worker ~= '' then
  local key = ARGV[1] .. worker
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
redis.call('INCR', ARGV[1] .. ARGV[2])
return 1
)lua");
  auto reply = kScript.Run(redis_, {AssignmentKey(referral_id), ReleasedKey(referral_id)},
                           {CaseloadKey(""), to_worker_id});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::Status DirectoryCache::MarkLoaded() {
  return redis_.Execute({"SET", kLoaded, kLayoutVersion}).status();
}

absl::StatusOr<bool> DirectoryCache::IsLoaded() {
  auto reply = redis_.Execute({"GET", kLoaded});
  if (!reply.ok()) return reply.status();
  return !reply->is_nil() && reply->str == kLayoutVersion;
}

absl::StatusOr<int> DirectoryCache::ClearUnlessLoaded() {
  auto loaded = IsLoaded();
  if (!loaded.ok()) return loaded.status();
  if (*loaded) return 0;
  int removed = 0;
  std::string cursor = "0";
  do {
    auto page = redis_.Execute({"SCAN", cursor, "MATCH", "signpost:dir:*", "COUNT", "1000"});
    if (!page.ok()) return page.status();
    if (page->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
    cursor = page->elements[0].str;
    redis::Command del = {"UNLINK"};
    for (const auto& key : page->elements[1].elements) del.push_back(key.str);
    if (del.size() > 1) {
      auto gone = redis_.Execute(del);
      if (!gone.ok()) return gone.status();
      removed += static_cast<int>(gone->integer);
    }
  } while (cursor != "0");
  return removed;
}

namespace {

std::string ReservationLockKey(const std::string& id) {
  return absl::StrCat("signpost:places:reserving:", id);
}
std::string ReservationsKey(const std::string& id) {
  return absl::StrCat("signpost:places:reservations:", id);
}

const redis::LuaScript& UnlockScript() {
  static const redis::LuaScript script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

}  // namespace

absl::StatusOr<bool> DirectoryCache::TryLockResource(const std::string& id,
                                                     const std::string& holder,
                                                     absl::Duration ttl) {
  auto reply = redis_.Execute({"SET", ReservationLockKey(id), holder, "NX", "PX",
                               absl::StrCat(absl::ToInt64Milliseconds(ttl))});
  if (!reply.ok()) return reply.status();
  return !reply->is_nil();
}

absl::Status DirectoryCache::UnlockResource(const std::string& id, const std::string& holder) {
  return UnlockScript().Run(redis_, {ReservationLockKey(id)}, {holder}).status();
}

absl::StatusOr<bool> DirectoryCache::HasReservation(const std::string& id,
                                                    const std::string& referral_id) {
  auto reply = redis_.Execute({"SISMEMBER", ReservationsKey(id), referral_id});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::Status DirectoryCache::AddReservation(const std::string& id, const std::string& referral_id) {
  return redis_.Execute({"SADD", ReservationsKey(id), referral_id}).status();
}

}  // namespace signpost::matching
