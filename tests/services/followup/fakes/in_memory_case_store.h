#pragma once

// Unit tests only: the CaseStore contract kept in memory, so follow-up's handler, commands and
// timers are tested without Redis (RedisCaseStore is tested against a real redis-server).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/followup/case_access.h"
#include "services/followup/case_store.h"

namespace signpost::followup::testing {

class InMemoryCaseStore final : public CaseStore {
 public:
  absl::StatusOr<std::optional<LoadedCase>> Load(const std::string& referral_id) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    auto it = cases_.find(referral_id);
    if (it == cases_.end()) return std::nullopt;
    LoadedCase loaded{it->second.kase, {}};
    for (const auto& id : loaded.kase.open_task_ids()) {
      if (auto task = tasks_.find(id); task != tasks_.end()) {
        loaded.open_tasks.push_back(task->second);
      }
    }
    return loaded;
  }

  absl::Status Commit(const CaseChange& change) override {
    return std::move(CommitMany({change}).front());
  }

  std::vector<absl::Status> CommitMany(const std::vector<CaseChange>& changes) override {
    absl::MutexLock lock(&mu_);
    std::vector<absl::Status> out;
    for (const auto& change : changes) {
      absl::Status reachable = Reachable();
      out.push_back(reachable.ok() ? CommitLocked(change) : reachable);
    }
    return out;
  }

  absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& referral_ids) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    std::vector<bool> out;
    for (const auto& id : referral_ids) out.push_back(cases_.contains(id));
    return out;
  }

  absl::StatusOr<std::optional<v1::Task>> GetTask(const std::string& task_id) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    auto it = tasks_.find(task_id);
    if (it == tasks_.end()) return std::nullopt;
    return it->second;
  }

  absl::StatusOr<QueueSnapshot> Snapshot(const std::string& queue) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    QueueSnapshot snapshot;
    const auto& feed = feeds_[queue];
    snapshot.token = feed.empty() ? "0-0" : absl::StrCat(feed.size(), "-0");
    // Oldest first (by creation time, then id), as a sorted set orders them.
    std::set<std::pair<int64_t, std::string>> open;
    for (const auto& [id, score] : open_[queue]) open.insert({score, id});
    for (const auto& [score, id] : open) snapshot.tasks.push_back(tasks_.at(id));
    return snapshot;
  }

  absl::StatusOr<std::vector<v1::FollowUpTimer>> ClaimDueTimers(absl::Time now,
                                                                absl::Duration lease,
                                                                int limit) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    std::set<std::pair<int64_t, std::string>> due;
    for (const auto& [id, timer] : timers_) {
      if (timer.due_ms <= absl::ToUnixMillis(now)) due.insert({timer.due_ms, id});
    }
    std::vector<v1::FollowUpTimer> claimed;
    for (const auto& [due_ms, id] : due) {
      if (static_cast<int>(claimed.size()) >= limit) break;
      timers_[id].due_ms = absl::ToUnixMillis(now + lease);
      claimed.push_back(timers_[id].timer);
    }
    return claimed;
  }

  absl::Status DropTimer(const std::string& timer_id) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Reachable(); !s.ok()) return s;
    timers_.erase(timer_id);
    return absl::OkStatus();
  }

  // Nothing to replicate; unreachable as every other call is.
  absl::Status AwaitReplicated() override {
    absl::MutexLock lock(&mu_);
    return Reachable();
  }

  // While unreachable, every call fails UNAVAILABLE, as RedisCaseStore does when Redis is down.
  void SetReachable(bool reachable) {
    absl::MutexLock lock(&mu_);
    reachable_ = reachable;
  }

  // What a commit put in the outbox for the broker, in order.
  std::vector<OutgoingEvent> Outbox() const {
    absl::MutexLock lock(&mu_);
    return outbox_;
  }
  // A case's version: how many commits changed it (0 when it has none).
  int64_t VersionOf(const std::string& referral_id) const {
    absl::MutexLock lock(&mu_);
    auto it = cases_.find(referral_id);
    return it == cases_.end() ? 0 : it->second.version;
  }
  // Ids of the timers still scheduled.
  std::vector<std::string> TimerIds() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& [id, timer] : timers_) ids.push_back(id);
    return ids;
  }
  // Changes written to a queue's feed (what a TaskStream subscriber receives after its snapshot).
  std::vector<v1::Task> Feed(const std::string& queue) const {
    absl::MutexLock lock(&mu_);
    auto it = feeds_.find(queue);
    return it == feeds_.end() ? std::vector<v1::Task>() : it->second;
  }

 private:
  struct StoredCase {
    int64_t version = 0;
    v1::Case kase;
  };
  struct StoredTimer {
    int64_t due_ms = 0;
    v1::FollowUpTimer timer;
  };

  static int64_t Millis(const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1000000;
  }

  absl::Status Reachable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return reachable_ ? absl::OkStatus() : absl::UnavailableError("case store unreachable");
  }

  // The same checks and writes, in the same order, as commit_case.lua.
  absl::Status CommitLocked(const CaseChange& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string& rid = change.after.referral_id();
    auto existing = cases_.find(rid);
    const int64_t current = existing == cases_.end() ? 0 : existing->second.version;
    if (current != change.expected_version) {
      return absl::AbortedError(
          absl::StrCat("case ", rid, " changed meanwhile (now version ", current, ")"));
    }
    if (!change.fired_timer.empty() && !timers_.contains(change.fired_timer)) {
      return absl::NotFoundError(absl::StrCat("timer ", change.fired_timer, " already fired"));
    }
    cases_[rid] = {change.expected_version + 1, change.after};
    for (const auto& id : change.timers_to_cancel) timers_.erase(id);
    for (const auto& timer : change.timers_to_add) {
      timers_[timer.id()] = {Millis(timer.due_at()), timer};
    }
    for (const auto& write : change.tasks) {
      const std::string queue = QueueOf(write.task);
      tasks_[write.task.id()] = write.task;
      if (!write.previous_queue.empty() && write.previous_queue != queue) {
        open_[write.previous_queue].erase(write.task.id());
        feeds_[write.previous_queue].push_back(write.task);
      }
      if (write.task.status() == v1::TASK_STATUS_OPEN) {
        open_[queue][write.task.id()] = Millis(write.task.created_at());
      } else {
        open_[queue].erase(write.task.id());
      }
      feeds_[queue].push_back(write.task);
    }
    for (const auto& event : change.events) outbox_.push_back(event);
    return absl::OkStatus();
  }

  mutable absl::Mutex mu_;
  bool reachable_ ABSL_GUARDED_BY(mu_) = true;
  std::map<std::string, StoredCase> cases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Task> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, int64_t>> open_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<v1::Task>> feeds_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StoredTimer> timers_ ABSL_GUARDED_BY(mu_);
  std::vector<OutgoingEvent> outbox_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::followup::testing
