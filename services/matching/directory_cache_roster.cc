// DirectoryCache as the Roster: link workers, networks, assignments, caseloads and recorded
// matches in Redis.
#include "services/matching/directory_cache.h"

#include "absl/strings/str_cat.h"
#include "common/redis/lua_script.h"
#include "services/matching/move_assignment.lua.h"
#include "services/matching/put_link_worker.lua.h"
#include "services/matching/put_network.lua.h"
#include "services/matching/record_match.lua.h"
#include "services/matching/redis_keys.h"
#include "services/matching/release_assignment.lua.h"

namespace signpost::matching {
namespace {

// Enough for any realistic churn of one referral's assignment between reading it and changing
// it; past it the caller retries.
constexpr int kAssignmentAttempts = 20;

// The referral's assignment as read before changing it: the scripts are given the caseload key
// of the worker read, and answer 'moved' when the assignment changed in between.
struct ReadAssignment {
  bool assigned = false;
  std::string worker;
};
absl::StatusOr<ReadAssignment> ReadAssignmentOf(redis::RedisClient& redis,
                                                const std::string& referral_id) {
  auto reply = redis.Execute({"GET", keys::Assignment(referral_id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return ReadAssignment{};
  return ReadAssignment{true, reply->str};
}

absl::Status AssignmentKeptMoving(const std::string& referral_id) {
  return absl::AbortedError(absl::StrCat("the assignment of referral ", referral_id,
                                         " kept changing while its caseload was updated"));
}

}  // namespace

absl::Status DirectoryCache::PutLinkWorker(const v1::LinkWorker& w) {
  static const redis::LuaScript kScript{std::string(lua::kPutLinkWorker)};
  auto written = kScript.Run(redis_,
                             {keys::Worker(w.id()), keys::NetworkWorkers(w.network_id()),
                              keys::kRosterStampCounter, keys::kRosterStamp},
                             {w.SerializeAsString(), w.id()});
  return written.ok() ? absl::OkStatus() : written.status();
}

absl::Status DirectoryCache::PutNetwork(const v1::Network& n) {
  static const redis::LuaScript kScript{std::string(lua::kPutNetwork)};
  std::vector<std::string> practices = {keys::kRosterStampCounter, keys::kRosterStamp};
  for (const auto& ods : n.practice_ods_codes()) practices.push_back(keys::Practice(ods));
  if (practices.size() == 2) return absl::OkStatus();
  auto written = kScript.Run(redis_, practices, {n.id()});
  return written.ok() ? absl::OkStatus() : written.status();
}

std::vector<absl::StatusOr<DirectoryCache::RecordedMatch>> DirectoryCache::RecordMatches(
    const std::vector<MatchToRecord>& matches) {
  static const redis::LuaScript kScript{std::string(lua::kRecordMatch)};
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(matches.size());
  for (const MatchToRecord& m : matches) {
    redis::LuaScript::Call& call = calls.emplace_back();
    call.keys = {keys::MatchRecord(m.referral_id), keys::Assignment(m.referral_id),
                 keys::Released(m.referral_id), keys::kRosterStamp, keys::Caseload(m.worker_id)};
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
  auto replies = kScript.RunMany(redis_, valid);
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
  auto reply = redis_.Execute({"LINDEX", keys::MatchRecord(referral_id), "0"});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<v1::Event>();
  v1::Event event;
  if (!event.ParseFromString(reply->str) || !event.has_referral_matched()) {
    return absl::DataLossError(
        absl::StrCat("the recorded match of referral ", referral_id, " is not a matched event"));
  }
  return std::optional<v1::Event>(std::move(event));
}

absl::StatusOr<std::optional<std::string>> DirectoryCache::AssignedWorker(
    const std::string& referral_id) {
  auto reply = redis_.Execute({"GET", keys::Assignment(referral_id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  return reply->str;
}

absl::StatusOr<bool> DirectoryCache::ReleaseAssignment(const std::string& referral_id) {
  static const redis::LuaScript kScript{std::string(lua::kReleaseAssignment)};
  for (int attempt = 0; attempt < kAssignmentAttempts; ++attempt) {
    auto read = ReadAssignmentOf(redis_, referral_id);
    if (!read.ok()) return read.status();
    auto reply = kScript.Run(redis_,
                             {keys::Assignment(referral_id), keys::Released(referral_id),
                              keys::MatchRecord(referral_id), keys::Caseload(read->worker)},
                             {read->assigned ? "1" : "0", read->worker,
                              absl::StrCat(absl::ToInt64Seconds(kRecordedMatchRetention))});
    if (!reply.ok()) return reply.status();
    if (reply->str == "moved") continue;
    return reply->integer == 1;
  }
  return AssignmentKeptMoving(referral_id);
}

absl::StatusOr<bool> DirectoryCache::MoveAssignment(const std::string& referral_id,
                                                    const std::string& to_worker_id) {
  static const redis::LuaScript kScript{std::string(lua::kMoveAssignment)};
  for (int attempt = 0; attempt < kAssignmentAttempts; ++attempt) {
    auto read = ReadAssignmentOf(redis_, referral_id);
    if (!read.ok()) return read.status();
    auto reply = kScript.Run(redis_,
                             {keys::Assignment(referral_id), keys::Released(referral_id),
                              keys::Caseload(read->worker), keys::Caseload(to_worker_id)},
                             {read->assigned ? "1" : "0", read->worker, to_worker_id});
    if (!reply.ok()) return reply.status();
    if (reply->str == "moved") continue;
    return reply->integer == 1;
  }
  return AssignmentKeptMoving(referral_id);
}

}  // namespace signpost::matching
