#include "services/followup/redis_case_store.h"

#include "absl/strings/str_cat.h"
#include "common/events/case_states.h"
#include "services/followup/case_access.h"
#include "services/followup/claim_due_timers.lua.h"
#include "services/followup/commit_case.lua.h"
#include "services/followup/snapshot_queue.lua.h"

namespace signpost::followup {
namespace {

int64_t Millis(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

absl::Status Unreadable(const std::string& what) {
  return absl::DataLossError(absl::StrCat("unreadable ", what, " in Redis"));
}

}  // namespace

RedisCaseStore::RedisCaseStore(redis::RedisClient& redis, RedisKeys keys, std::string topic_prefix,
                               int feed_max_length, CaseRetention retention)
    : redis_(redis),
      keys_(std::move(keys)),
      topic_prefix_(std::move(topic_prefix)),
      feed_max_length_(feed_max_length),
      retention_(std::move(retention)),
      commit_(std::string(lua::kCommitCase)),
      snapshot_(std::string(lua::kSnapshotQueue)),
      claim_(std::string(lua::kClaimDueTimers)) {}

absl::StatusOr<std::optional<LoadedCase>> RedisCaseStore::Load(const std::string& referral_id) {
  auto reply = redis_.Execute({"HGET", keys_.Case(referral_id), "b"});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  LoadedCase loaded;
  if (!loaded.kase.ParseFromString(reply->str)) return Unreadable("case " + referral_id);
  if (loaded.kase.open_task_ids().empty()) return loaded;
  redis::Command mget = {"MGET"};
  for (const auto& id : loaded.kase.open_task_ids()) {
    mget.push_back(keys_.Task(id));
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
  // commit_case.lua says how the operations and their keys line up.
  std::vector<std::string> keys = {keys_.Case(change.after.referral_id()), keys_.Timers(),
                                   keys_.Outbox()};
  std::vector<std::string> args = {absl::StrCat(change.expected_version),
                                   change.after.SerializeAsString(), change.fired_timer,
                                   absl::StrCat(feed_max_length_)};
  for (const auto& id : change.timers_to_cancel) {
    keys.push_back(keys_.Timer(id));
    args.insert(args.end(), {"C", id});
  }
  for (const auto& timer : change.timers_to_add) {
    keys.push_back(keys_.Timer(timer.id()));
    args.insert(args.end(),
                {"A", timer.id(), absl::StrCat(Millis(timer.due_at())), timer.SerializeAsString()});
  }
  for (const auto& write : change.tasks) {
    const std::string queue = QueueOf(write.task);
    const bool moved = !write.previous_queue.empty() && write.previous_queue != queue;
    keys.insert(keys.end(), {keys_.Task(write.task.id()), keys_.Open(queue), keys_.Feed(queue)});
    if (moved) {
      keys.insert(keys.end(), {keys_.Open(write.previous_queue), keys_.Feed(write.previous_queue)});
    }
    args.insert(args.end(), {"T", write.task.id(),
                             write.task.status() == v1::TASK_STATUS_OPEN ? "open" : "ended",
                             absl::StrCat(Millis(write.task.created_at())),
                             write.task.SerializeAsString(), moved ? "1" : ""});
  }
  for (const auto& out : change.events) {
    args.insert(args.end(), {"O", kafka::TopicName(out.topic, topic_prefix_), out.key,
                             out.event.SerializeAsString()});
  }
  if (events::IsCaseEnded(change.after.state())) {
    keys.push_back(keys_.Retention());
    args.insert(args.end(),
                {"R", change.after.referral_id(),
                 absl::StrCat(absl::ToUnixMillis(retention_.clock() + retention_.closed))});
  }
  return {std::move(keys), std::move(args)};
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
    commands.push_back({"HEXISTS", keys_.Case(id), "b"});
    commands.push_back({"ZSCORE", keys_.Retention(), id});  // ended (and perhaps removed)
  }
  auto replies = redis_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<bool> out;
  out.reserve(referral_ids.size());
  for (size_t i = 0; i + 1 < replies->size(); i += 2) {
    const redis::Reply& held = (*replies)[i];
    const redis::Reply& ended = (*replies)[i + 1];
    for (const redis::Reply* reply : {&held, &ended}) {
      if (reply->type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply->str);
    }
    out.push_back(held.integer == 1 || !ended.is_nil());
  }
  return out;
}

absl::StatusOr<std::optional<v1::Task>> RedisCaseStore::GetTask(const std::string& task_id) {
  auto reply = redis_.Execute({"GET", keys_.Task(task_id)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::nullopt;
  v1::Task task;
  if (!task.ParseFromString(reply->str)) return Unreadable("task " + task_id);
  return task;
}

absl::StatusOr<CaseStore::QueueSnapshot> RedisCaseStore::Snapshot(const std::string& queue) {
  auto reply = snapshot_.Run(redis_, {keys_.Feed(queue), keys_.Open(queue)}, {keys_.Task("")});
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
  const std::string now_ms = absl::StrCat(absl::ToUnixMillis(now));
  // The due ids first, then a script that claims those still due (another instance may have
  // claimed some in between), with each timer's key in KEYS.
  auto due = redis_.Execute(
      {"ZRANGEBYSCORE", keys_.Timers(), "-inf", now_ms, "LIMIT", "0", absl::StrCat(limit)});
  if (!due.ok()) return due.status();
  std::vector<v1::FollowUpTimer> timers;
  if (due->elements.empty()) return timers;
  std::vector<std::string> keys = {keys_.Timers()};
  std::vector<std::string> args = {now_ms, absl::StrCat(absl::ToUnixMillis(now + lease))};
  for (const auto& id : due->elements) {
    keys.push_back(keys_.Timer(id.str));
    args.push_back(id.str);
  }
  auto reply = claim_.Run(redis_, keys, args);
  if (!reply.ok()) return reply.status();
  for (const auto& element : reply->elements) {
    v1::FollowUpTimer timer;
    if (!timer.ParseFromString(element.str)) return Unreadable("timer");
    timers.push_back(std::move(timer));
  }
  return timers;
}

absl::Status RedisCaseStore::DropTimer(const std::string& timer_id) {
  auto reply =
      redis_.Pipeline({{"ZREM", keys_.Timers(), timer_id}, {"DEL", keys_.Timer(timer_id)}});
  return reply.status();
}

}  // namespace signpost::followup
