#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "services/followup/case_retirement.h"
#include "services/followup/case_store.h"
#include "services/followup/case_workflow.h"
#include "services/followup/place_reserver.h"

namespace signpost::followup {

// Carries out case actions: load, check access, apply the workflow's rule, commit; a commit that
// lost a race with another change is redone on the fresh case. `committed` runs after every
// commit (it wakes the outbox publisher).
class CaseCommands {
 public:
  using Rule = std::function<absl::StatusOr<CaseChange>(const LoadedCase&, absl::Time)>;

  CaseCommands(CaseStore& store, const CaseWorkflow& workflow, PlaceReserver* places,
               std::function<absl::Time()> clock, std::function<void()> committed);

  // An action by `queue` on its case; answers the case after it.
  absl::StatusOr<v1::Case> Act(const std::string& queue, const std::string& referral_id,
                               const Rule& rule);
  // The same for an action named by the client's `request_id` (empty: unnamed): one the case
  // applied already (a retry after a lost answer) is answered with the case as it is, and not
  // applied again; else the id is recorded in the same commit as the action.
  absl::StatusOr<v1::Case> Act(const std::string& queue, const std::string& referral_id,
                               const std::string& request_id, const Rule& rule);
  absl::StatusOr<v1::Case> GetCase(const std::string& queue, const std::string& referral_id);
  // Reserves the place through the directory, on behalf of the caller whose bearer token is
  // `caller_token`, before the connection is committed. Named by its request id as Act's are.
  absl::StatusOr<v1::Case> RecordConnection(const v1::RecordConnectionRequest& request,
                                            const std::string& caller_token);
  // Named by its request id as Act's are; a retry of one applied answers the task as done.
  absl::StatusOr<v1::Task> CompleteTask(const v1::CompleteTaskRequest& request);

  // From the topics; OK when already done (redelivery).
  absl::Status Open(const v1::Event& matched);
  // Opens each as Open does, in two round trips for them all (whether each has a case, then the
  // new cases' commits); one status each, in order. One that lost a race (opened meanwhile, or
  // the same referral twice) is redone on its own.
  std::vector<absl::Status> OpenMany(const std::vector<const v1::Event*>& matched);
  absl::Status Withdraw(const v1::Event& withdrawn);

  const CaseWorkflow& workflow() const { return workflow_; }

  // Where removed cases are known: GetCase and the actions answer "no longer held" for one, and
  // its events read again do not open it anew. None: every case is held for ever.
  void set_retirement(CaseRetirement* retirement) { retirement_ = retirement; }

 private:
  absl::StatusOr<LoadedCase> LoadFor(const std::string& queue, const std::string& referral_id);
  absl::Status CommitNow(const CaseChange& change);
  // The case as it is, for a retry that finds its action applied already, once the store holds
  // it as safely as a commit would (the first try's commit may have been refused its replicas,
  // and an answer read back waits for none by itself).
  absl::StatusOr<v1::Case> AsApplied(const v1::Case& kase);
  // When the case (not in the store) was removed after it ended, if it was.
  absl::StatusOr<std::optional<absl::Time>> RemovedAt(const std::string& referral_id);

  CaseStore& store_;
  const CaseWorkflow& workflow_;
  PlaceReserver* places_;
  std::function<absl::Time()> clock_;
  std::function<void()> committed_;
  CaseRetirement* retirement_ = nullptr;
};

}  // namespace signpost::followup
