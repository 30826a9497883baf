#pragma once

#include "services/followup/case_details_seal.h"
#include "services/followup/case_store.h"

namespace signpost::followup {

// The case store follow-up runs on: the store underneath (Redis) is given every case with the
// person's details sealed (CaseDetailsSeal::Seal), and what it loads stays sealed, so that the
// workflow, the timers and the task feed never open them; GetCase alone does. Tasks, timers and
// the outbox's events hold no identity and pass through as they are.
class SealingCaseStore final : public CaseStore {
 public:
  SealingCaseStore(CaseStore& sealed, const CaseDetailsSeal& seal) : sealed_(sealed), seal_(seal) {}

  absl::StatusOr<std::optional<LoadedCase>> Load(const std::string& referral_id) override {
    return sealed_.Load(referral_id);
  }
  absl::Status Commit(const CaseChange& change) override;
  absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& referral_ids) override {
    return sealed_.Exist(referral_ids);
  }
  // A change whose details cannot be sealed is not committed (its status says why); the others
  // are, in one round trip as before.
  std::vector<absl::Status> CommitMany(const std::vector<CaseChange>& changes) override;
  absl::StatusOr<std::optional<v1::Task>> GetTask(const std::string& task_id) override {
    return sealed_.GetTask(task_id);
  }
  absl::StatusOr<QueueSnapshot> Snapshot(const std::string& queue) override {
    return sealed_.Snapshot(queue);
  }
  absl::StatusOr<std::vector<v1::FollowUpTimer>> ClaimDueTimers(absl::Time now,
                                                                absl::Duration lease,
                                                                int limit) override {
    return sealed_.ClaimDueTimers(now, lease, limit);
  }
  absl::Status DropTimer(const std::string& timer_id) override {
    return sealed_.DropTimer(timer_id);
  }
  absl::Status AwaitReplicated() override { return sealed_.AwaitReplicated(); }

 private:
  CaseStore& sealed_;
  const CaseDetailsSeal& seal_;
};

}  // namespace signpost::followup
