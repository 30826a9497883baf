#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/followup/case_change.h"

namespace signpost::followup {

// Where cases, tasks, timers and the outgoing events live. RedisCaseStore is the real one.
class CaseStore {
 public:
  virtual ~CaseStore() = default;

  virtual absl::StatusOr<std::optional<LoadedCase>> Load(const std::string& referral_id) = 0;

  // Applies the whole change or nothing. ABORTED when the case is no longer at
  // change.expected_version (someone else changed it: load again and redo); NOT_FOUND when the
  // change fires a timer that is no longer scheduled (another instance fired it).
  virtual absl::Status Commit(const CaseChange& change) = 0;
  // Whether each referral has a case, in one round trip.
  virtual absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& referral_ids) = 0;
  // Commits each change as Commit does, in order and in one round trip: one status each. When
  // the round trip fails, every change has its error (and none, some or all may have applied:
  // applied ones are at their new version, so redoing them is ABORTED, not a second copy).
  virtual std::vector<absl::Status> CommitMany(const std::vector<CaseChange>& changes) = 0;

  virtual absl::StatusOr<std::optional<v1::Task>> GetTask(const std::string& task_id) = 0;

  // A queue's open tasks, oldest first, and the resume token of its feed at that moment.
  struct QueueSnapshot {
    std::vector<v1::Task> tasks;
    std::string token;
  };
  virtual absl::StatusOr<QueueSnapshot> Snapshot(const std::string& queue) = 0;

  // Timers due at `now`, each leased for `lease`: no other caller gets it until the lease runs
  // out, so a claimer that dies leaves it to be claimed again, and a live one fires it once.
  virtual absl::StatusOr<std::vector<v1::FollowUpTimer>> ClaimDueTimers(absl::Time now,
                                                                        absl::Duration lease,
                                                                        int limit) = 0;
  virtual absl::Status DropTimer(const std::string& timer_id) = 0;

  // Returns once what the store holds now is as safe as a commit's (on the replicas a commit
  // waits for); UNAVAILABLE when it is not in time. An answer that tells a caller a change has
  // happened, read back rather than committed (a retry finding its first try applied), waits for
  // this first: the first try's commit may have been refused its replicas.
  virtual absl::Status AwaitReplicated() = 0;
};

}  // namespace signpost::followup
