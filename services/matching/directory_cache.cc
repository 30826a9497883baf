#include "services/matching/directory_cache.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/redis/lua_script.h"
#include "services/matching/begin_clear.lua.h"
#include "services/matching/begin_load.lua.h"
#include "services/matching/clear_page.lua.h"
#include "services/matching/end_clear.lua.h"
#include "services/matching/geo_distance.h"
#include "services/matching/locate_candidates_and_team.lua.h"
#include "services/matching/mark_loaded.lua.h"
#include "services/matching/postcode_lookup.h"
#include "services/matching/redis_keys.h"
#include "services/matching/resource_write.h"

namespace signpost::matching {
namespace {

// Bumped whenever the cache's keys change shape: a cache of another layout is cleared and rebuilt
// from the topic rather than read or written with the wrong types.
constexpr char kLayoutVersion[] = "3";

absl::Status FirstError(const absl::StatusOr<std::vector<redis::Reply>>& replies) {
  if (!replies.ok()) return replies.status();
  for (const auto& reply : *replies) {
    if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
  }
  return absl::OkStatus();
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

absl::Status DirectoryCache::PutResource(const v1::Resource& r,
                                         const std::string& load_generation) {
  auto written = WriteResource(
      redis_, {.resource_id = r.id(), .load_generation = load_generation, .record = &r});
  if (!written.ok()) return written.status();
  // This instance will read it back soon (matching follows the topic it writes): keep it parsed.
  if (written->type == redis::Reply::Type::kString) {
    memo_.Put(r.id(), written->str, std::make_shared<v1::Resource>(r));
  }
  return absl::OkStatus();
}

absl::Status DirectoryCache::RemoveResource(const std::string& id,
                                            const std::string& load_generation) {
  return WriteResource(redis_, {.resource_id = id, .load_generation = load_generation}).status();
}

absl::StatusOr<std::optional<v1::Resource>> DirectoryCache::GetResource(const std::string& id) {
  auto reply = redis_.Execute({"GET", keys::Resource(id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<v1::Resource>();
  v1::Resource r;
  if (!r.ParseFromString(reply->str)) {
    return absl::DataLossError(absl::StrCat("cached resource ", id, " is corrupt"));
  }
  return std::optional<v1::Resource>(std::move(r));
}

absl::StatusOr<std::vector<std::vector<Found>>> DirectoryCache::Candidates(
    const std::vector<CandidateQuery>& queries) {
  // One pipeline for all needs: per query the geo search and the best remote ones.
  std::vector<redis::Command> commands;
  for (const auto& q : queries) {
    if (q.point) {
      commands.push_back({"GEOSEARCH", keys::Geo(q.need), "FROMLONLAT",
                          absl::StrFormat("%.7f", q.point->longitude()),
                          absl::StrFormat("%.7f", q.point->latitude()), "BYRADIUS",
                          absl::StrCat(q.radius_km), "km", "ASC", "COUNT", absl::StrCat(q.limit)});
    }
    commands.push_back({"ZREVRANGE", keys::Remote(q.need), "0", absl::StrCat(q.remote_limit - 1)});
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

std::vector<absl::StatusOr<DirectoryCache::Lookup>> DirectoryCache::LocateCandidatesAndTeamMany(
    const std::vector<Locate>& locates) {
  static const redis::LuaScript kScript{std::string(lua::kLocateCandidatesAndTeam)};
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(locates.size());
  for (const Locate& l : locates) {
    redis::LuaScript::Call& call = calls.emplace_back();
    // Without a referral, keys no referral has: nothing recorded, nothing assigned.
    call.keys = {keys::Postcode(l.postcode),          keys::Postcode(l.district),
                 keys::Practice(l.practice_ods_code), keys::Assignment(l.referral_id),
                 keys::MatchRecord(l.referral_id),    keys::kRosterStamp};
    // The team's keys follow from what the script reads (the practice's network, its workers):
    // their prefixes.
    call.args = {keys::NetworkWorkers(""), keys::Worker(""), keys::Caseload("")};
    call.args.insert(call.args.end(), std::begin(PostcodeLookup::kFields),
                     std::end(PostcodeLookup::kFields));
    for (const auto& q : l.queries) {
      call.keys.push_back(keys::Geo(q.need));
      call.keys.push_back(keys::Remote(q.need));
      call.args.push_back(absl::StrCat(q.radius_km));
      call.args.push_back(absl::StrCat(q.limit));
      call.args.push_back(absl::StrCat(q.remote_limit));
    }
  }
  auto replies = kScript.RunMany(redis_, calls);
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
      fetch.push_back({"GET", keys::Stamp(id)});
      fetch.push_back({"GET", keys::Resource(id)});
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

absl::Status DirectoryCache::FinishClear(const std::string& clear, int& removed) {
  static const redis::LuaScript kPage{std::string(lua::kClearPage)};
  static const redis::LuaScript kEnd{std::string(lua::kEndClear)};
  std::string cursor = "0";
  do {
    auto page = redis_.Execute({"SCAN", cursor, "MATCH", keys::kDirectoryPattern, "COUNT", "1000"});
    if (!page.ok()) return page.status();
    if (page->elements.size() != 2) return absl::InternalError("unexpected SCAN reply");
    cursor = page->elements[0].str;
    std::vector<std::string> page_keys = {keys::kClearing, keys::kGeneration};
    for (const auto& key : page->elements[1].elements) page_keys.push_back(key.str);
    if (page_keys.size() == 2) continue;
    auto gone = kPage.Run(redis_, page_keys, {clear});
    if (!gone.ok()) return gone.status();
    if (gone->integer < 0) return absl::OkStatus();
    removed += static_cast<int>(gone->integer);
  } while (cursor != "0");
  return kEnd.Run(redis_, {keys::kClearing}, {clear}).status();
}

absl::StatusOr<int> DirectoryCache::ClearUnlessLoaded() {
  static const redis::LuaScript kScript{std::string(lua::kBeginClear)};
  auto clear =
      kScript.Run(redis_, {keys::kLoaded, keys::kClearing, keys::kGeneration}, {kLayoutVersion});
  if (!clear.ok()) return clear.status();
  if (clear->is_nil()) return 0;
  int removed = 0;
  if (absl::Status s = FinishClear(clear->str, removed); !s.ok()) return s;
  return removed;
}

absl::StatusOr<std::string> DirectoryCache::BeginLoad() {
  static const redis::LuaScript kScript{std::string(lua::kBeginLoad)};
  // Each turn either begins the load or finishes a clear; only clears begun meanwhile by
  // instances starting make another turn.
  constexpr int kTurns = 100;
  for (int turn = 0; turn < kTurns; ++turn) {
    auto reply = kScript.Run(redis_, {keys::kClearing, keys::kGeneration}, {});
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
  static const redis::LuaScript kScript{std::string(lua::kMarkLoaded)};
  auto replies = kScript.RunMany(redis_, {{{keys::kLoaded, keys::kGeneration, keys::kClearing},
                                           {load_generation, kLayoutVersion}}});
  if (!replies.ok()) return replies.status();
  const redis::Reply& reply = replies->front();
  if (reply.type == redis::Reply::Type::kError) return ScriptErrorStatus(reply.str);
  return absl::OkStatus();
}

absl::StatusOr<bool> DirectoryCache::IsLoaded() {
  auto reply = redis_.Execute({"GET", keys::kLoaded});
  if (!reply.ok()) return reply.status();
  return !reply->is_nil() && reply->str == kLayoutVersion;
}

}  // namespace signpost::matching
