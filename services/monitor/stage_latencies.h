#pragma once

#include <array>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

// How long referrals take from one stage to the next — referred (by the GP), received (accepted
// by intake), matched, first task (on a link worker's queue), first contact, closed — from the
// events themselves (their occurred_at), so a replay gives the same figures. Keeps the last
// `samples` durations per pair of stages and follows at most `referrals` referrals at a time
// (the oldest are forgotten first). No I/O.
class StageLatencies {
 public:
  enum Stage { kReferred, kReceived, kMatched, kFirstTask, kFirstContact, kClosed, kStages };

  explicit StageLatencies(size_t referrals = 200000, size_t samples = 10000);

  void Observe(const v1::Event& event);
  std::vector<v1::StageLatency> Snapshot() const;

 private:
  void Reach(const std::string& referral_id, Stage stage, absl::Time at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Sample(Stage from, Stage to, absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  size_t max_referrals_;
  size_t max_samples_;
  mutable absl::Mutex mu_;
  // A hash map: every event of every topic looks a referral up here (a tree of 200,000 ids was
  // about a sixth of the monitor's time).
  absl::flat_hash_map<std::string, std::array<absl::Time, kStages>> reached_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<int, int>, std::deque<double>> samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::monitor
