#include "services/matching/directory_cache.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/redis/lua_script.h"
#include "services/matching/candidate_filter.h"
#include "services/matching/geo_distance.h"
#include "services/matching/postcode_lookup.h"

namespace signpost::matching {
namespace {

constexpr char kLoaded[] = "signpost:dir:loaded";
// The clear under way (kFenceFunctions).
constexpr char kClearing[] = "signpost:dir:clearing";
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
// A referral's match as first recorded: its events' bytes, in publishing order (a list).
std::string MatchRecordKey(const std::string& referral) {
  return absl::StrCat("signpost:roster:match:", referral);
}
constexpr char kRosterStampKey[] = "signpost:roster:stamp";

// Every change to the roster moves its stamp, so a team remembered in process is known to be
// current. The server's clock is part of it: a counter that went back (a restore, a failover
// to a replica behind) or a rebuilt cache still never gives an old stamp again.
constexpr char kBumpRosterFunction[] = R"lua(
local function bump_roster()
  local n = redis.call('INCR', 'signpost:roster:stamps')
  local t = redis.call('TIME')
  redis.call('SET', 'signpost:roster:stamp', t[1] .. string.format('%06d', t[2]) .. '.' .. n)
end
)lua";

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

// The cache's fence (DirectoryCache::ClearUnlessLoaded), as Lua functions for the scripts that
// write the cache. Its generation ("<count>:<server time>", new after a FLUSHALL too) moves when a
// clear begins, and 'signpost:dir:clearing' names the clear under way until one of the instances
// clearing has gone through every key. Neither is removed by a clear. While a clear is under way
// nothing is written, so a clear that goes through every key leaves none.
constexpr char kFenceFunctions[] = R"lua(
local function new_generation()
  local old = redis.call('GET', 'signpost:dir:generation')
  local n = tonumber(string.match(old or '', '^(%d+):')) or 0
  local t = redis.call('TIME')
  local generation = (n + 1) .. ':' .. t[1] .. string.format('%06d', t[2])
  redis.call('SET', 'signpost:dir:generation', generation)
  return generation
end
-- Why a write for a load begun in `generation` ('' for a write outside a load) may not be made
-- now, as an error reply; nil when it may.
local function refusal(generation)
  if generation ~= '' and redis.call('GET', 'signpost:dir:generation') ~= generation then
    return redis.error_reply(
        'STALEGENERATION the directory cache was cleared after this load of it began')
  end
  if redis.call('EXISTS', 'signpost:dir:clearing') == 1 then
    return redis.error_reply('CLEARING the directory cache is being cleared')
  end
  return nil
end
)lua";

// A script's error reply as a status: the fence's refusals say what the caller does next.
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

// Runs a script that writes the cache under its fence (ScriptErrorStatus).
absl::StatusOr<redis::Reply> RunFenced(const redis::LuaScript& script, redis::RedisClient& redis,
                                       const std::vector<std::string>& keys,
                                       const std::vector<std::string>& args) {
  auto replies = script.RunMany(redis, {{keys, args}});
  if (!replies.ok()) return replies.status();
  redis::Reply& reply = replies->front();
  if (reply.type == redis::Reply::Type::kError) return ScriptErrorStatus(reply.str);
  return std::move(reply);
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
// As Lua functions for the scripts that write resources: `older` says whether the version in
// ARGV[first], ARGV[first + 1] is older than the cached one; `replace_resource` writes. Its keys:
// record, its index entries (a set), its version, its stamp. From ARGV[first]: version seconds and
// nanos ("" for none), record bytes ("" to remove), then index entries to the end of ARGV:
// g key lon lat member | r key score member. Returns the new stamp when it wrote the record, else
// a number.
constexpr char kReplaceResourceFunctions[] = R"lua(
local function older(version_key, first)
  local v = redis.call('GET', version_key)
  if not v or ARGV[first] == '' then return false end
  local s, n = string.match(v, '^(%-?%d+) (%d+)$')
  s = tonumber(s)
  n = tonumber(n)
  -- A version that cannot be read is replaced.
  if not s or not n then return false end
  local ns, nn = tonumber(ARGV[first]), tonumber(ARGV[first + 1])
  return s > ns or (s == ns and n > nn)
end
-- A stamp per write, unique across cache rebuilds: "<epoch>.<count>", where the epoch is the
-- server's time when the counter started. A clear may remove the counter or the epoch without the
-- other: either way the epoch is new.
local function next_stamp()
  local n = redis.call('INCR', 'signpost:dir:stamps')
  local epoch = redis.call('GET', 'signpost:dir:epoch')
  if n == 1 or not epoch then
    local t = redis.call('TIME')
    epoch = t[1] .. string.format('%06d', t[2])
    redis.call('SET', 'signpost:dir:epoch', epoch)
  end
  return epoch .. '.' .. n
end
local function replace_resource(record_key, entries_key, version_key, stamp_key, first)
  if older(version_key, first) then return 0 end
  for _, e in ipairs(redis.call('SMEMBERS', entries_key)) do
    local key, member = string.match(e, '^%a\t([^\t]+)\t(.+)$')
    if key then redis.call('ZREM', key, member) end
  end
  redis.call('DEL', entries_key)
  if ARGV[first + 2] == '' then
    redis.call('DEL', record_key, version_key, stamp_key)
    return 1
  end
  redis.call('SET', record_key, ARGV[first + 2])
  -- The stamp ends every index member ("<id>|<location>|<stamp>", "<id>|<stamp>"), so a search
  -- tells which record version each hit is and in-process copies know whether they are current.
  local stamp = next_stamp()
  redis.call('SET', stamp_key, stamp)
  if ARGV[first] ~= '' then
    redis.call('SET', version_key, ARGV[first] .. ' ' .. ARGV[first + 1])
  else
    redis.call('DEL', version_key)
  end
  local i = first + 3
  while i <= #ARGV do
    if ARGV[i] == 'g' then
      local member = ARGV[i + 4] .. '|' .. stamp
      redis.call('GEOADD', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], member)
      redis.call('SADD', entries_key, 'g\t' .. ARGV[i + 1] .. '\t' .. member)
      i = i + 5
    else
      local member = ARGV[i + 3] .. '|' .. stamp
      redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], member)
      redis.call('SADD', entries_key, 'r\t' .. ARGV[i + 1] .. '\t' .. member)
      i = i + 4
    end
  end
  return stamp
end
)lua";

// KEYS as replace_resource's. ARGV: the load's generation ('' outside a load), then as
// replace_resource's.
const redis::LuaScript& ReplaceScript() {
  static const redis::LuaScript kScript(
      absl::StrCat(kFenceFunctions, kReplaceResourceFunctions, R"lua(
local refused = refusal(ARGV[1])
if refused then return refused end
return replace_resource(KEYS[1], KEYS[2], KEYS[3], KEYS[4], 2)
)lua"));
  return kScript;
}

std::vector<std::string> ReplaceKeys(const std::string& id) {
  return {ResourceKey(id), absl::StrCat("signpost:dir:entries:", id),
          absl::StrCat("signpost:dir:version:", id), StampKey(id)};
}

}  // namespace

std::vector<std::string> DirectoryCache::ReplaceArgs(const v1::Resource& r) {
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
  return args;
}

absl::Status DirectoryCache::PutResource(const v1::Resource& r,
                                         const std::string& load_generation) {
  std::vector<std::string> args = {load_generation};
  std::vector<std::string> replace = ReplaceArgs(r);
  args.insert(args.end(), std::make_move_iterator(replace.begin()),
              std::make_move_iterator(replace.end()));
  auto written = RunFenced(ReplaceScript(), redis_, ReplaceKeys(r.id()), args);
  if (!written.ok()) return written.status();
  // This instance will read it back soon (matching follows the topic it writes): keep it parsed.
  if (written->type == redis::Reply::Type::kString) {
    memo_.Put(r.id(), written->str, std::make_shared<v1::Resource>(r));
  }
  return absl::OkStatus();
}

absl::Status DirectoryCache::RemoveResource(const std::string& id,
                                            const std::string& load_generation) {
  return RunFenced(ReplaceScript(), redis_, ReplaceKeys(id), {load_generation, "", "", ""})
      .status();
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
  static const redis::LuaScript kScript(absl::StrCat(kBumpRosterFunction, R"lua(
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
bump_roster()
)lua"));
  auto written = kScript.Run(redis_, {WorkerKey(w.id()), NetworkWorkersKey(w.network_id())},
                             {w.SerializeAsString(), w.id()});
  return written.ok() ? absl::OkStatus() : written.status();
}

absl::Status DirectoryCache::PutNetwork(const v1::Network& n) {
  static const redis::LuaScript kScript(absl::StrCat(kBumpRosterFunction, R"lua(
for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1]) end
bump_roster()
)lua"));
  std::vector<std::string> keys;
  for (const auto& ods : n.practice_ods_codes()) keys.push_back(PracticeKey(ods));
  if (keys.empty()) return absl::OkStatus();
  auto written = kScript.Run(redis_, keys, {n.id()});
  return written.ok() ? absl::OkStatus() : written.status();
}

absl::StatusOr<std::vector<std::vector<Found>>> DirectoryCache::Candidates(
    const std::vector<CandidateQuery>& queries) {
  // One pipeline for all needs: per query the geo search and the best remote ones.
  std::vector<redis::Command> commands;
  for (const auto& q : queries) {
    if (q.point) {
      commands.push_back({"GEOSEARCH", GeoKey(q.need), "FROMLONLAT",
                          absl::StrFormat("%.7f", q.point->longitude()),
                          absl::StrFormat("%.7f", q.point->latitude()), "BYRADIUS",
                          absl::StrCat(q.radius_km), "km", "ASC", "COUNT", absl::StrCat(q.limit)});
    }
    commands.push_back({"ZREVRANGE", RemoteKey(q.need), "0", absl::StrCat(q.remote_limit - 1)});
  }
  auto replies = redis_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  if (absl::Status s = FirstError(replies); !s.ok()) return s;
  std::vector<Hits> hits(queries.size());
  size_t at = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (queries[q].point) {
      hits[q].from = queries[q].point;
      for (const auto& member : (*replies)[at++].elements) hits[q].nearby.push_back(member.str);
    }
    for (const auto& member : (*replies)[at++].elements) hits[q].remote.push_back(member.str);
  }
  return Collect(hits);
}

namespace {

// The practice's network, its link workers and their caseloads (also as a table by worker id),
// as a Lua function for the script that reads a team with other things.
constexpr char kTeamFunction[] = R"lua(
local function team(practice_key, workers_prefix, worker_prefix, caseload_prefix)
  local network = redis.call('GET', practice_key)
  if not network then return {}, {} end
  local ids = redis.call('SMEMBERS', workers_prefix .. network)
  if #ids == 0 then return {network}, {} end
  -- Two MGETs, not two GETs per worker: each call from a script has a fixed cost.
  local records, caseloads = {}, {}
  for i, id in ipairs(ids) do
    records[i] = worker_prefix .. id
    caseloads[i] = caseload_prefix .. id
  end
  records = redis.call('MGET', unpack(records))
  caseloads = redis.call('MGET', unpack(caseloads))
  local out, loads = {network}, {}
  for i = 1, #ids do
    table.insert(out, records[i] or '')
    table.insert(out, caseloads[i] or '0')
    loads[ids[i]] = tonumber(caseloads[i] or '0') or 0
  end
  return out, loads
end
)lua";

// Everything matching a referral reads, in one script so it is one round trip although the geo
// searches start from a point read in it; for a referral matched before, only its record.
// KEYS: the postcode's and the district's records, the practice, the referral's assignment and
// its recorded match, then per need its geo and remote index.
// ARGV: the roster key prefixes, the record fields, then per need its radius in km, how many
// nearby and how many remote.
const redis::LuaScript& LocateCandidatesAndTeamScript() {
  static const redis::LuaScript kScript(absl::StrCat(kTeamFunction, R"lua(
local recorded = redis.call('LRANGE', KEYS[5], 0, -1)
if #recorded > 0 then return {'recorded', recorded} end
local needs = (#KEYS - 5) / 2
local fields = {ARGV[4], ARGV[5], ARGV[6], ARGV[7]}
local postcode = redis.call('HMGET', KEYS[1], unpack(fields))
local district = redis.call('HMGET', KEYS[2], unpack(fields))
local lat, lon
for _, record in ipairs({postcode, district}) do
  if tonumber(record[1]) and tonumber(record[2]) then
    lat, lon = tonumber(record[1]), tonumber(record[2])
    break
  end
end
-- The point as the direct search formats it, so both find the same. Each index's members come
-- back joined in one string: turning hundreds of replies into Lua values and back costs more than
-- the search.
if lat then lat, lon = string.format('%.7f', lat), string.format('%.7f', lon) end
local out = {postcode, district}
for n = 0, needs - 1 do
  local a = 8 + 3 * n
  if lat then
    table.insert(out, table.concat(redis.call('GEOSEARCH', KEYS[6 + 2 * n], 'FROMLONLAT', lon,
                                              lat, 'BYRADIUS', ARGV[a], 'km', 'ASC', 'COUNT',
                                              ARGV[a + 1]), ' '))
  else
    table.insert(out, '')
  end
  table.insert(out, table.concat(redis.call('ZREVRANGE', KEYS[7 + 2 * n], 0,
                                            tonumber(ARGV[a + 2]) - 1), ' '))
end
local members = team(KEYS[3], ARGV[1], ARGV[2], ARGV[3])
table.insert(out, members)
-- The roster the team is read at, and an assignment recorded without a match record (by a
-- version of matching before match records).
table.insert(out, {redis.call('GET', 'signpost:roster:stamp') or '',
                   redis.call('GET', KEYS[4]) or false})
return out
)lua"));
  return kScript;
}

// Records a referral's match once (RecordMatches).
// KEYS: the referral's match record, its assignment, its released mark, the roster stamp, the
// chosen worker's caseload.
// ARGV: the roster stamp the decision read, the worker ('' for a team queue), the caseload the
// decision read, the worker's cap (0: none), '1' when an earlier assignment stands, the seconds an
// ended case's record is kept, then the events.
const redis::LuaScript& RecordMatchScript() {
  static const redis::LuaScript kScript(R"lua(
local recorded = redis.call('LRANGE', KEYS[1], 0, -1)
if #recorded > 0 then return {'earlier', recorded} end
local assigned = redis.call('GET', KEYS[2])
local released = redis.call('EXISTS', KEYS[3]) == 1
if ARGV[5] == '1' then
  if not assigned then return {'stale'} end
else
  -- Assigned by another version meanwhile, or decided on a roster or caseload that moved on: the
  -- caller reads again. A worker at their maximum is never given one more case.
  if assigned or (redis.call('GET', KEYS[4]) or '') ~= ARGV[1] then return {'stale'} end
  -- A case already ended (its end overtook the match) takes no place in a caseload.
  if ARGV[2] ~= '' and not released then
    local load = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
    local cap = tonumber(ARGV[4])
    if load ~= tonumber(ARGV[3]) or (cap > 0 and load >= cap) then return {'stale'} end
    redis.call('INCR', KEYS[5])
  end
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
if released then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
return {'recorded'}
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

absl::StatusOr<DirectoryCache::Lookup> DirectoryCache::LocateCandidatesAndTeam(
    const std::string& postcode, const std::string& district,
    const std::vector<CandidateQuery>& queries, const std::string& practice_ods_code,
    const std::string& referral_id) {
  std::vector<Locate> one(1);
  one[0] = {postcode, district, queries, practice_ods_code, referral_id};
  return std::move(LocateCandidatesAndTeamMany(one).front());
}

std::vector<absl::StatusOr<DirectoryCache::Lookup>> DirectoryCache::LocateCandidatesAndTeamMany(
    const std::vector<Locate>& locates) {
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(locates.size());
  for (const Locate& l : locates) {
    redis::LuaScript::Call& call = calls.emplace_back();
    // Without a referral, keys no referral has: nothing recorded, nothing assigned.
    call.keys = {PostcodeLookup::KeyOf(l.postcode), PostcodeLookup::KeyOf(l.district),
                 PracticeKey(l.practice_ods_code), AssignmentKey(l.referral_id),
                 MatchRecordKey(l.referral_id)};
    call.args = {NetworkWorkersKey(""), WorkerKey(""), CaseloadKey("")};
    call.args.insert(call.args.end(), std::begin(PostcodeLookup::kFields),
                     std::end(PostcodeLookup::kFields));
    for (const auto& q : l.queries) {
      call.keys.push_back(GeoKey(q.need));
      call.keys.push_back(RemoteKey(q.need));
      call.args.push_back(absl::StrCat(q.radius_km));
      call.args.push_back(absl::StrCat(q.limit));
      call.args.push_back(absl::StrCat(q.remote_limit));
    }
  }
  auto replies = LocateCandidatesAndTeamScript().RunMany(redis_, calls);
  std::vector<absl::StatusOr<Lookup>> out;
  out.reserve(locates.size());
  for (size_t i = 0; i < locates.size(); ++i) {
    if (!replies.ok()) {
      out.push_back(replies.status());
    } else if ((*replies)[i].type == redis::Reply::Type::kError) {
      out.push_back(redis::ErrorReplyStatus((*replies)[i].str));
    } else {
      out.push_back(ParseLookup((*replies)[i], locates[i]));
    }
  }
  return out;
}

absl::StatusOr<DirectoryCache::Lookup> DirectoryCache::ParseLookup(const redis::Reply& reply,
                                                                   const Locate& locate) {
  const std::vector<CandidateQuery>& queries = locate.queries;
  const auto& e = reply.elements;
  Lookup out;
  if (e.size() == 2 && e[0].str == "recorded") {
    for (const auto& event : e[1].elements) out.recorded.push_back(event.str);
    return out;
  }
  if (e.size() != 4 + 2 * queries.size() || e.back().elements.size() != 2) {
    return absl::InternalError(absl::StrCat("the matching read returned ", e.size(), " parts for ",
                                            queries.size(), " needs"));
  }
  out.location = PostcodeLookup::FromRecords(e[0], e[1]);
  std::vector<Hits> hits(queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    if (out.location.basis != PersonLocation::Basis::kNone) {
      hits[q].from = out.location.point;
      hits[q].nearby = absl::StrSplit(e[2 + 2 * q].str, ' ', absl::SkipEmpty());
    }
    hits[q].remote = absl::StrSplit(e[3 + 2 * q].str, ' ', absl::SkipEmpty());
  }
  auto candidates = Collect(hits);
  if (!candidates.ok()) return candidates.status();
  out.candidates = *std::move(candidates);
  out.team = ParseTeam(e[e.size() - 2]);
  const auto& roster = e.back().elements;
  out.team.roster_stamp = roster[0].str;
  if (!roster[1].is_nil()) out.assigned_earlier = roster[1].str;
  return out;
}

std::vector<absl::StatusOr<DirectoryCache::RecordedMatch>> DirectoryCache::RecordMatches(
    const std::vector<MatchToRecord>& matches) {
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(matches.size());
  for (const MatchToRecord& m : matches) {
    redis::LuaScript::Call& call = calls.emplace_back();
    call.keys = {MatchRecordKey(m.referral_id), AssignmentKey(m.referral_id),
                 ReleasedKey(m.referral_id), kRosterStampKey, CaseloadKey(m.worker_id)};
    call.args = {m.roster_stamp,
                 m.worker_id,
                 absl::StrCat(m.worker_caseload),
                 absl::StrCat(m.worker_cap),
                 m.keeps_earlier ? "1" : "0",
                 absl::StrCat(absl::ToInt64Seconds(kRecordedMatchRetention))};
    call.args.insert(call.args.end(), m.events.begin(), m.events.end());
  }
  std::vector<absl::StatusOr<RecordedMatch>> out;
  out.reserve(matches.size());
  for (const MatchToRecord& m : matches) {
    if (m.referral_id.empty() || m.events.empty()) {
      out.push_back(
          absl::InvalidArgumentError("a match to record needs a referral and its events"));
    } else {
      out.push_back(RecordedMatch{});
    }
  }
  std::vector<redis::LuaScript::Call> valid;
  std::vector<size_t> valid_of;
  for (size_t i = 0; i < matches.size(); ++i) {
    if (!out[i].ok()) continue;
    valid.push_back(std::move(calls[i]));
    valid_of.push_back(i);
  }
  if (valid.empty()) return out;
  auto replies = RecordMatchScript().RunMany(redis_, valid);
  for (size_t v = 0; v < valid.size(); ++v) {
    absl::StatusOr<RecordedMatch>& result = out[valid_of[v]];
    if (!replies.ok()) {
      result = replies.status();
      continue;
    }
    const redis::Reply& reply = (*replies)[v];
    if (reply.type == redis::Reply::Type::kError) {
      result = redis::ErrorReplyStatus(reply.str);
      continue;
    }
    const std::string state = reply.elements.empty() ? "" : reply.elements[0].str;
    if (state == "recorded") {
      result->state = RecordedMatch::State::kRecorded;
      result->events = matches[valid_of[v]].events;
    } else if (state == "earlier" && reply.elements.size() == 2) {
      result->state = RecordedMatch::State::kEarlier;
      for (const auto& event : reply.elements[1].elements) result->events.push_back(event.str);
    } else if (state == "stale") {
      result->state = RecordedMatch::State::kStale;
    } else {
      result = absl::InternalError(absl::StrCat("recording a match answered '", state, "'"));
    }
  }
  return out;
}

absl::StatusOr<std::optional<v1::Event>> DirectoryCache::RecordedMatchedEvent(
    const std::string& referral_id) {
  // The matched event is recorded first, before the unmet needs'.
  auto reply = redis_.Execute({"LINDEX", MatchRecordKey(referral_id), "0"});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<v1::Event>();
  v1::Event event;
  if (!event.ParseFromString(reply->str) || !event.has_referral_matched()) {
    return absl::DataLossError(
        absl::StrCat("the recorded match of referral ", referral_id, " is not a matched event"));
  }
  return std::optional<v1::Event>(std::move(event));
}

absl::StatusOr<std::vector<std::vector<Found>>> DirectoryCache::Collect(
    const std::vector<Hits>& hits) {
  // Members end with their record's stamp, so records come from the memo when it holds that
  // version; only the others are fetched, in a second round trip.
  std::vector<std::vector<Found>> out(hits.size());
  // Which of its locations each in-person hit was found at (-1 for remote ones).
  std::vector<std::vector<int>> location_of(hits.size());
  // Hits whose record is not in the memo at its current stamp: (query, position, id).
  std::vector<std::tuple<size_t, size_t, std::string>> missing;
  // First every member's id and stamp, then one memo lookup for them all.
  struct Member {
    size_t query;
    int location;  // -1 for remote
    absl::string_view id, stamp;
  };
  std::vector<Member> members;
  auto parse = [&](size_t q, absl::string_view member, bool remote) {
    // "<id>|<location>|<stamp>" in the geo index, "<id>|<stamp>" in the remote one.
    size_t first = member.find('|'), last = member.rfind('|');
    if (first == absl::string_view::npos) return;
    int location = -1;
    if (!remote && (first == last ||
                    !absl::SimpleAtoi(member.substr(first + 1, last - first - 1), &location))) {
      return;
    }
    members.push_back({q, location, member.substr(0, first), member.substr(last + 1)});
  };
  for (size_t q = 0; q < hits.size(); ++q) {
    for (absl::string_view member : hits[q].nearby) parse(q, member, false);
    for (absl::string_view member : hits[q].remote) parse(q, member, true);
  }
  std::vector<std::pair<absl::string_view, absl::string_view>> wanted;
  wanted.reserve(members.size());
  for (const Member& m : members) wanted.emplace_back(m.id, m.stamp);
  std::vector<std::shared_ptr<const v1::Resource>> records = memo_.FindMany(wanted);
  for (size_t q = 0; q < hits.size(); ++q) {
    out[q].reserve(hits[q].nearby.size() + hits[q].remote.size());
    location_of[q].reserve(out[q].capacity());
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    Found found;
    found.remote = m.location < 0;
    found.resource = std::move(records[i]);
    if (!found.resource) missing.emplace_back(m.query, out[m.query].size(), std::string(m.id));
    out[m.query].push_back(std::move(found));
    location_of[m.query].push_back(m.location);
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
      out[q][k].resource = std::move(resource);
    }
  }
  // Distances from the record's own point (Redis searched by it), nearest first as Redis gave
  // them. Hits whose record was removed between the two round trips are dropped.
  for (size_t q = 0; q < out.size(); ++q) {
    for (size_t k = 0; k < out[q].size(); ++k) {
      Found& found = out[q][k];
      const int location = location_of[q][k];
      if (!found.resource || found.remote) continue;
      if (location >= found.resource->locations_size() ||
          !found.resource->locations(location).has_point()) {
        found.resource.reset();  // a record that no longer has that location
        continue;
      }
      found.distance_km = DistanceKm(*hits[q].from, found.resource->locations(location).point());
    }
    out[q].erase(
        std::remove_if(out[q].begin(), out[q].end(), [](const Found& f) { return !f.resource; }),
        out[q].end());
  }
  return out;
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
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 1
)lua");
  auto reply = kScript.Run(
      redis_, {AssignmentKey(referral_id), ReleasedKey(referral_id), MatchRecordKey(referral_id)},
      {CaseloadKey(""), absl::StrCat(absl::ToInt64Seconds(kRecordedMatchRetention))});
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

namespace {

// Begins a clear unless the cache is complete and of this layout (then nil), or joins the clear
// under way: the clear's name (a new generation), and no mark of a complete cache.
// KEYS: the loaded mark, the clear under way. ARGV: this layout.
const redis::LuaScript& BeginClearScript() {
  static const redis::LuaScript kScript(absl::StrCat(kFenceFunctions, R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return false end
local clear = redis.call('GET', KEYS[2])
if not clear then
  clear = new_generation()
  redis.call('SET', KEYS[2], clear)
end
redis.call('DEL', KEYS[1])
return clear
)lua"));
  return kScript;
}

}  // namespace

absl::Status DirectoryCache::FinishClear(const std::string& clear, int& removed) {
  // Removes a page of keys, the fence's own excepted, while the clear is still under way (else
  // another instance went through every key: nothing is left to do, and loads may have begun).
  // KEYS: the clear under way, then the page. ARGV: the clear's name.
  static const redis::LuaScript kPage(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local removed = 0
for i = 2, #KEYS do
  if KEYS[i] ~= KEYS[1] and KEYS[i] ~= 'signpost:dir:generation' then
    removed = removed + redis.call('UNLINK', KEYS[i])
  end
end
return removed
)lua");
  // Nothing was written since the clear began: going through every key left none.
  static const redis::LuaScript kEnd(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua");
  std::string cursor = "0";
  do {
    auto page = redis_.Execute({"SCAN", cursor, "MATCH", "signpost:dir:*", "COUNT", "1000"});
    if (!page.ok()) return page.status();
    if (page->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
    cursor = page->elements[0].str;
    std::vector<std::string> keys = {kClearing};
    for (const auto& key : page->elements[1].elements) keys.push_back(key.str);
    if (keys.size() == 1) continue;
    auto gone = kPage.Run(redis_, keys, {clear});
    if (!gone.ok()) return gone.status();
    if (gone->integer < 0) return absl::OkStatus();
    removed += static_cast<int>(gone->integer);
  } while (cursor != "0");
  return kEnd.Run(redis_, {kClearing}, {clear}).status();
}

absl::StatusOr<int> DirectoryCache::ClearUnlessLoaded() {
  auto clear = BeginClearScript().Run(redis_, {kLoaded, kClearing}, {kLayoutVersion});
  if (!clear.ok()) return clear.status();
  if (clear->is_nil()) return 0;
  int removed = 0;
  if (absl::Status s = FinishClear(clear->str, removed); !s.ok()) return s;
  return removed;
}

absl::StatusOr<std::string> DirectoryCache::BeginLoad() {
  // The generation, or the clear under way.
  static const redis::LuaScript kScript(absl::StrCat(kFenceFunctions, R"lua(
local clear = redis.call('GET', KEYS[1])
if clear then return {'clearing', clear} end
return {'generation', redis.call('GET', 'signpost:dir:generation') or new_generation()}
)lua"));
  // Each turn either begins the load or finishes a clear; only clears begun meanwhile by
  // instances starting make another turn.
  constexpr int kTurns = 100;
  for (int turn = 0; turn < kTurns; ++turn) {
    auto reply = kScript.Run(redis_, {kClearing}, {});
    if (!reply.ok()) return reply.status();
    if (reply->elements.size() != 2) return absl::InternalError("unexpected load reply");
    if (reply->elements[0].str == "generation") return reply->elements[1].str;
    int removed = 0;
    if (absl::Status s = FinishClear(reply->elements[1].str, removed); !s.ok()) return s;
  }
  return absl::UnavailableError("the directory cache kept being cleared: try again");
}

absl::Status DirectoryCache::MarkLoaded(const std::string& load_generation) {
  if (load_generation.empty()) {
    return absl::InvalidArgumentError("a load to mark complete needs the generation it began in");
  }
  static const redis::LuaScript kScript(absl::StrCat(kFenceFunctions, R"lua(
local refused = refusal(ARGV[1])
if refused then return refused end
redis.call('SET', KEYS[1], ARGV[2])
return 1
)lua"));
  return RunFenced(kScript, redis_, {kLoaded}, {load_generation, kLayoutVersion}).status();
}

absl::StatusOr<bool> DirectoryCache::IsLoaded() {
  auto reply = redis_.Execute({"GET", kLoaded});
  if (!reply.ok()) return reply.status();
  return !reply->is_nil() && reply->str == kLayoutVersion;
}

namespace {

std::string ReservationsKey(const std::string& id) {
  return absl::StrCat("signpost:places:reservations:", id);
}

// Takes a place for a referral once (DirectoryCache::TakePlace): the resource as the caller made
// it from the version it read, and the record that the referral holds a place there, together.
// KEYS: as replace_resource's, then the resource's reservations (a set).
// ARGV: the referral, the stamp of the record the new one was made from, then as
// replace_resource's.
const redis::LuaScript& TakePlaceScript() {
  static const redis::LuaScript kScript(
      absl::StrCat(kFenceFunctions, kReplaceResourceFunctions, R"lua(
if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return 'earlier' end
local refused = refusal('')
if refused then return refused end
if (redis.call('GET', KEYS[4]) or '') ~= ARGV[2] or older(KEYS[3], 3) then return 'stale' end
-- Nothing is written before this (a script stopped by an error keeps what it wrote so far).
redis.call('SADD', KEYS[5], ARGV[1])
return replace_resource(KEYS[1], KEYS[2], KEYS[3], KEYS[4], 3)
)lua"));
  return kScript;
}

}  // namespace

absl::StatusOr<DirectoryCache::TakenPlace> DirectoryCache::TakePlace(const std::string& resource_id,
                                                                     const std::string& referral_id,
                                                                     absl::Time now) {
  // Enough for any realistic contention on one resource; past it the caller is told to retry.
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // The stamp before the record: a write landing between the two leaves a newer record under
    // an older stamp, which the script finds stale.
    auto read = redis_.Pipeline({{"GET", StampKey(resource_id)},
                                 {"GET", ResourceKey(resource_id)},
                                 {"SISMEMBER", ReservationsKey(resource_id), referral_id}});
    if (absl::Status s = FirstError(read); !s.ok()) return s;
    const redis::Reply& stamp = (*read)[0];
    const redis::Reply& record = (*read)[1];
    if (record.is_nil()) {
      return absl::NotFoundError(absl::StrCat("no resource '", resource_id, "'"));
    }
    TakenPlace out;
    if (!out.resource.ParseFromString(record.str)) {
      return absl::DataLossError(absl::StrCat("cached resource ", resource_id, " is corrupt"));
    }
    if ((*read)[2].integer == 1) {
      out.earlier = true;
      return out;
    }
    v1::Resource& resource = out.resource;
    v1::Capacity* capacity = resource.mutable_capacity();
    if (capacity->places_available() <= 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no place left at ", resource.name(), " (", resource.id(), "); waitlist ",
                       capacity->waitlist_open() ? "open" : "closed"));
    }
    capacity->set_places_available(capacity->places_available() - 1);
    capacity->mutable_updated_at()->set_seconds(absl::ToUnixSeconds(now));
    // A version later than the one it replaces, whatever this machine's clock says.
    absl::Time version = now;
    if (resource.has_updated_at()) {
      absl::Time read_version = absl::FromUnixSeconds(resource.updated_at().seconds()) +
                                absl::Nanoseconds(resource.updated_at().nanos());
      version = std::max(version, read_version + absl::Nanoseconds(1));
    }
    int64_t nanos = absl::ToUnixNanos(version);
    resource.mutable_updated_at()->set_seconds(nanos / 1000000000);
    resource.mutable_updated_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
    std::vector<std::string> keys = ReplaceKeys(resource_id);
    keys.push_back(ReservationsKey(resource_id));
    std::vector<std::string> args = {referral_id, stamp.is_nil() ? "" : stamp.str};
    std::vector<std::string> replace = ReplaceArgs(resource);
    args.insert(args.end(), replace.begin(), replace.end());
    auto taken = RunFenced(TakePlaceScript(), redis_, keys, args);
    if (!taken.ok()) return taken.status();
    if (taken->str == "stale") continue;
    if (taken->str == "earlier") {
      auto current = GetResource(resource_id);
      if (!current.ok()) return current.status();
      if (current->has_value()) out.resource = **current;
      out.earlier = true;
      return out;
    }
    if (taken->type == redis::Reply::Type::kString) {
      memo_.Put(resource_id, taken->str, std::make_shared<v1::Resource>(resource));
    }
    return out;
  }
  return absl::AbortedError(
      absl::StrCat("resource ", resource_id, " kept changing while a place was taken: try again"));
}

}  // namespace signpost::matching
