#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace signpost::followup {

// The follow-up keys in Redis, all under one prefix ("fu:" by default), written once here; scripts
// receive them in KEYS (but for the tasks snapshot_queue.lua finds in an open set: its comment
// says why):
//   <p>case:<referral id>  hash {v: version, b: Case, "t:<task id>": "" for each of its tasks}
//   <p>task:<task id>      Task
//   <p>open:<queue>        sorted set of open task ids by creation time
//   <p>feed:<queue>        stream of task changes {t: Task}; entry ids are resume tokens
//   <p>timers              sorted set of timer ids by due time (ms); <p>timer:<id> FollowUpTimer
//   <p>outbox              stream of events to publish {topic, key, value}
//   <p>retention           sorted set of ended cases' referral ids by when the case leaves Redis
//                          (ms, on the service's clock); once it has, by when its tombstone (this
//                          entry) goes too (case_retirement.h)
//   <p>outbox:lock         which instance publishes the outbox: its fencing token
//   <p>outbox:epoch        counter the fencing tokens are numbered from
struct RedisKeys {
  std::string prefix = "fu:";

  std::string Case(const std::string& referral_id) const {
    return absl::StrCat(prefix, "case:", referral_id);
  }
  std::string Task(const std::string& task_id) const {
    return absl::StrCat(prefix, "task:", task_id);
  }
  std::string Open(const std::string& queue) const { return absl::StrCat(prefix, "open:", queue); }
  std::string Feed(const std::string& queue) const { return absl::StrCat(prefix, "feed:", queue); }
  std::string Timer(const std::string& timer_id) const {
    return absl::StrCat(prefix, "timer:", timer_id);
  }
  std::string Outbox() const { return absl::StrCat(prefix, "outbox"); }
  std::string OutboxLock() const { return absl::StrCat(prefix, "outbox:lock"); }
  std::string OutboxEpoch() const { return absl::StrCat(prefix, "outbox:epoch"); }
  std::string Timers() const { return absl::StrCat(prefix, "timers"); }
  std::string Retention() const { return absl::StrCat(prefix, "retention"); }
};

}  // namespace signpost::followup
