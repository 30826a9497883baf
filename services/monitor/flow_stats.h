#pragma once

#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/message.h"
#include "services/monitor/flow_window.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

// Everything the monitor learns from the messages it reads: rates per topic, dead letters by
// source and reason (and the latest few), rejections by source system and broken field, SLA alerts,
// unmet needs by area and category, referrals no network serves and how many still wait. Aggregates
// only. No I/O: messages and lag figures are handed in; time comes from the messages (so a replay
// after a restart rebuilds the same figures) and from the caller for the rate window.
class FlowStats {
 public:
  // `repeat_window`: how far back a referral of the same person makes a new one a repeat.
  explicit FlowStats(std::string topic_prefix, size_t latest_dead_letters = 20,
                     absl::Duration repeat_window = absl::Hours(24));

  // `event`: the message parsed as an Event, or null (the dead-letter topic, unreadable bytes).
  void Observe(const kafka::ConsumedMessage& message, const v1::Event* event);
  // The groups' latest lag; each snapshot adds how long each group's oldest unprocessed message
  // has waited, from the message times the monitor has seen by then.
  void SetLag(std::vector<v1::GroupLag> lag);
  v1::FlowSnapshot Snapshot(absl::Time now) const;

 private:
  struct TopicTotals {
    FlowWindow window;
    int64_t messages = 0;
    int64_t last_ms = 0;
  };
  void ObserveDeadLetter(const kafka::ConsumedMessage& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ObserveEvent(const v1::Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::GroupLag WithWaits(v1::GroupLag group, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string prefix_;
  size_t latest_limit_;
  mutable absl::Mutex mu_;
  std::map<std::string, TopicTotals> topics_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::GroupLag> lag_ ABSL_GUARDED_BY(mu_);
  // Per topic (without prefix) and partition: recent (offset, timestamp ms), oldest first.
  std::map<std::pair<std::string, int32_t>, std::deque<std::pair<int64_t, int64_t>>> times_
      ABSL_GUARDED_BY(mu_);
  // Both bounded: at most a few hundred (source, reason) pairs, each text cut short.
  std::map<std::pair<std::string, std::string>, int64_t> dead_letters_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::DeadLetter> latest_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::map<std::pair<std::string, std::string>, int64_t> rejections_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int>, int64_t> unmet_ ABSL_GUARDED_BY(mu_);
  int64_t sla_at_risk_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t sla_breaches_ ABSL_GUARDED_BY(mu_) = 0;
  // Within `repeat_window_` of the newest referral seen: person_ref -> (first referral, its
  // time in ms), the referrals that were repeats, and both in time order for forgetting them.
  void ForgetReferralsBefore(int64_t ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration repeat_window_;
  absl::flat_hash_map<std::string, std::pair<std::string, int64_t>> first_referral_of_
      ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<int64_t, std::string>> people_in_order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> repeat_referrals_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<int64_t, std::string>> repeats_in_order_ ABSL_GUARDED_BY(mu_);
  int64_t personal_data_deliveries_ ABSL_GUARDED_BY(mu_) = 0;
  // Referrals matched to the unrouted queue, by referral id: whether their match and their routing
  // (reassigned, or ended) have been seen. Each topic is read on its own, so either may come
  // first. The newest kUnroutedFollowed are kept, in the order first seen.
  struct Unrouted {
    bool matched = false;
    bool routed = false;
  };
  void ObserveUnrouted(const std::string& referral_id, bool matched, bool routed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::flat_hash_map<std::string, Unrouted> unrouted_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> unrouted_in_order_ ABSL_GUARDED_BY(mu_);
  int64_t unrouted_referrals_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unreachable_rejections_ ABSL_GUARDED_BY(mu_) = 0;  // nobody could be told of them
  int64_t unrouted_waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace signpost::monitor
