#include "services/followup/redis_case_store.h"

#include "absl/strings/str_cat.h"
#include "services/followup/case_access.h"

namespace signpost::followup {
namespace {

constexpr char kCommitLua[] = R"lua(
local p = ARGV[1]
local expected = tonumber(ARGV[3])
local ck = p .. 'case:' .. ARGV[2]
local cur = redis.call('HGET', ck, 'v')
local curv = 0
if cur then curv = tonumber(cur) end
if curv ~= expected then return {'conflict', tostring(curv)} end
local fired = ARGV[5]
if fired ~= '' and not redis.call('ZSCORE', p .. 'timers', fired) then
  return {'timer_gone', tostring(curv)}
end
redis.call('HSET', ck, 'v', tostring(expected + 1), 'b', ARGV[4])
local maxlen = ARGV[6]
local i = 7
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'T' then
    local id, queue, prev, status, score, bytes =
        ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
    redis.call('SET', p .. 'task:' .. id, bytes)
    if prev ~= '' and prev ~= queue then
      redis.call('ZREM', p .. 'open:' .. prev, id)
      redis.call('XADD', p .. 'feed:' .. prev, 'MAXLEN', '~', maxlen, '*', 't', bytes)
    end
    if status == 'open' then
      redis.call('ZADD', p .. 'open:' .. queue, score, id)
    else
      redis.call('ZREM', p .. 'open:' .. queue, id)
    end
    redis.call('XADD', p .. 'feed:' .. queue, 'MAXLEN', '~', maxlen, '*', 't', bytes)
    i = i + 7
  elseif op == 'C' then
    redis.call('ZREM', p .. 'timers', ARGV[i + 1])
    redis.call('DEL', p .. 'timer:' .. ARGV[i + 1])
    i = i + 2
  elseif op == 'A' then
    redis.call('SET', p .. 'timer:' .. ARGV[i + 1], ARGV[i + 3])
    redis.call('ZADD', p .. 'timers', ARGV[i + 2], ARGV[i + 1])
    i = i + 4
  elseif op == 'O' then
    redis.call('XADD', p .. 'outbox', '*', 'topic', ARGV[i + 1], 'key', ARGV[i + 2],
               'value', ARGV[i + 3])
    i = i + 4
  else
    return redis.error_reply('unknown commit op ' .. op)
  end
end
return {'ok', tostring(expected + 1)}
)lua";

constexpr char kSnapshotLua[] = R"lua(
local p = ARGV[1]
local q = ARGV[2]
local last = redis.call('XREVRANGE', p .. 'feed:' .. q, '+', '-', 'COUNT', 1)
local out = {'0-0'}
if #last > 0 then out[1] = last[1][1] end
for _, id in ipairs(redis.call('ZRANGE', p .. 'open:' .. q, 0, -1)) do
  local b = redis.call('GET', p .. 'task:' .. id)
  if b then table.insert(out, b) end
end
return out
)lua";

constexpr char kClaimLua[] = R"lua(
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'timers', '-inf', ARGV[2], 'LIMIT', 0, ARGV[4])
local out = {}
for _, id in ipairs(ids) do
  local b = redis.call('GET', p .. 'timer:' .. id)
  if b then
    redis.call('ZADD', p .. 'timers', ARGV[3], id)
    table.insert(out, b)
  else
    redis.call('ZREM', p .. 'timers', id)
  end
end
return out
)lua";

int64_t Millis(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

absl::Status Unreadable(const std::string& what) {
  return absl::DataLossError(absl::StrCat("unreadable ", what, " in Redis"));
}

}  // namespace

RedisCaseStore::RedisCaseStore(redis::RedisClient& redis, RedisKeys keys, std::string topic_prefix,
                               int feed_max_length)
    : redis_(redis),
      keys_(std::move(keys)),
      topic_prefix_(std::move(topic_prefix)),
      feed_max_length_(feed_max_length),
      commit_(kCommitLua),
      snapshot_(kSnapshotLua),
      claim_(kClaimLua) {}

absl::StatusOr<std::optional<LoadedCase>> RedisCaseStore::Load(const std::string& referral_id) {
  auto reply = redis_.Execute({"HGET", absl::StrCat(keys_.prefix, "case:", referral_id), "b"});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  LoadedCase loaded;
  if (!loaded.kase.ParseFromString(reply->str)) return Unreadable("case " + referral_id);
  if (loaded.kase.open_task_ids().empty()) return loaded;
  redis::Command mget = {"MGET"};
  for (const auto& id : loaded.kase.open_task_ids()) {
    mget.push_back(absl::StrCat(keys_.prefix, "task:", id));
  }
  auto tasks = redis_.Execute(mget);
  if (!tasks.ok()) return tasks.status();
  for (const auto& element : tasks->elements) {
    if (element.is_nil()) continue;
    v1::Task task;
    if (!task.ParseFromString(element.str)) return Unreadable("task of " + referral_id);
    loaded.open_tasks.push_back(std::move(task));
  }
  return loaded;
}

redis::LuaScript::Call RedisCaseStore::CommitCall(const CaseChange& change) const {
  std::vector<std::string> args = {keys_.prefix,
                                   change.after.referral_id(),
                                   absl::StrCat(change.expected_version),
                                   change.after.SerializeAsString(),
                                   change.fired_timer,
                                   absl::StrCat(feed_max_length_)};
  for (const auto& id : change.timers_to_cancel) {
    args.insert(args.end(), {"C", id});
  }
  for (const auto& timer : change.timers_to_add) {
    args.insert(args.end(),
                {"A", timer.id(), absl::StrCat(Millis(timer.due_at())), timer.SerializeAsString()});
  }
  for (const auto& write : change.tasks) {
    args.insert(args.end(),
                {"T", write.task.id(), QueueOf(write.task), write.previous_queue,
                 write.task.status() == v1::TASK_STATUS_OPEN ? "open" : "ended",
                 absl::StrCat(Millis(write.task.created_at())), write.task.SerializeAsString()});
  }
  for (const auto& out : change.events) {
    args.insert(args.end(), {"O", kafka::TopicName(out.topic, topic_prefix_), out.key,
                             out.event.SerializeAsString()});
  }
  return {{}, std::move(args)};
}

absl::Status RedisCaseStore::Commit(const CaseChange& change) {
  return std::move(CommitMany({change}).front());
}

std::vector<absl::Status> RedisCaseStore::CommitMany(const std::vector<CaseChange>& changes) {
  if (changes.empty()) return {};
  std::vector<redis::LuaScript::Call> calls;
  calls.reserve(changes.size());
  for (const auto& change : changes) calls.push_back(CommitCall(change));
  auto replies = commit_.RunMany(redis_, calls);
  std::vector<absl::Status> out;
  out.reserve(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!replies.ok()) {
      out.push_back(replies.status());
      continue;
    }
    const redis::Reply& reply = (*replies)[i];
    const CaseChange& change = changes[i];
    if (reply.type == redis::Reply::Type::kError) {
      out.push_back(redis::ErrorReplyStatus(reply.str));
    } else if (reply.elements.size() != 2) {
      out.push_back(absl::InternalError("unexpected commit reply"));
    } else if (reply.elements[0].str == "ok") {
      out.push_back(absl::OkStatus());
    } else if (reply.elements[0].str == "conflict") {
      out.push_back(absl::AbortedError(absl::StrCat("case ", change.after.referral_id(),
                                                    " changed meanwhile (now version ",
                                                    reply.elements[1].str, ")")));
    } else {
      out.push_back(
          absl::NotFoundError(absl::StrCat("timer ", change.fired_timer, " already fired")));
    }
  }
  return out;
}

absl::StatusOr<std::vector<bool>> RedisCaseStore::Exist(
    const std::vector<std::string>& referral_ids) {
  if (referral_ids.empty()) return std::vector<bool>();
  std::vector<redis::Command> commands;
  commands.reserve(referral_ids.size());
  for (const auto& id : referral_ids) {
    commands.push_back({"HEXISTS", absl::StrCat(keys_.prefix, "case:", id), "b"});
  }
  auto replies = redis_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<bool> out;
  out.reserve(replies->size());
  for (const auto& reply : *replies) {
    if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
    out.push_back(reply.integer == 1);
  }
  return out;
}

absl::StatusOr<std::optional<v1::Task>> RedisCaseStore::GetTask(const std::string& task_id) {
  auto reply = redis_.Execute({"GET", absl::StrCat(keys_.prefix, "task:", task_id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  v1::Task task;
  if (!task.ParseFromString(reply->str)) return Unreadable("task " + task_id);
  return task;
}

absl::StatusOr<CaseStore::QueueSnapshot> RedisCaseStore::Snapshot(const std::string& queue) {
  auto reply = snapshot_.Run(redis_, {}, {keys_.prefix, queue});
  if (!reply.ok()) return reply.status();
  if (reply->elements.empty()) return absl::InternalError("unexpected snapshot reply");
  QueueSnapshot snapshot;
  snapshot.token = reply->elements[0].str;
  for (size_t i = 1; i < reply->elements.size(); ++i) {
    v1::Task task;
    if (!task.ParseFromString(reply->elements[i].str)) return Unreadable("task of " + queue);
    snapshot.tasks.push_back(std::move(task));
  }
  return snapshot;
}

absl::StatusOr<std::vector<v1::FollowUpTimer>> RedisCaseStore::ClaimDueTimers(absl::Time now,
                                                                              absl::Duration lease,
                                                                              int limit) {
  auto reply = claim_.Run(redis_, {},
                          {keys_.prefix, absl::StrCat(absl::ToUnixMillis(now)),
                           absl::StrCat(absl::ToUnixMillis(now + lease)), absl::StrCat(limit)});
  if (!reply.ok()) return reply.status();
  std::vector<v1::FollowUpTimer> timers;
  for (const auto& element : reply->elements) {
    v1::FollowUpTimer timer;
    if (!timer.ParseFromString(element.str)) return Unreadable("timer");
    timers.push_back(std::move(timer));
  }
  return timers;
}

absl::Status RedisCaseStore::DropTimer(const std::string& timer_id) {
  auto reply = redis_.Pipeline({{"ZREM", keys_.Timers(), timer_id},
                                {"DEL", absl::StrCat(keys_.prefix, "timer:", timer_id)}});
  return reply.status();
}

}  // namespace signpost::followup
