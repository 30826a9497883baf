#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/followup/case_change.h"
#include "services/followup/deadline_policy.h"

namespace signpost::followup {

struct WorkflowOptions {
  DeadlinePolicy deadlines;
  std::string producer = "signpost-followup";
  // How long a check-in task stays open before it is overdue.
  int check_in_working_days = 5;
};

// The rules of a case: what each action and each timer changes, which tasks, timers, case events
// and messages back to the referrer follow. Pure: no I/O, time passed in; the store applies the
// result. Every id it makes (tasks, timers, events, feedback) derives from the referral and the
// case version, so replaying an action after a lost answer produces the same ids.
class CaseWorkflow {
 public:
  explicit CaseWorkflow(WorkflowOptions options);

  // A matched referral opens its case: a first-contact task for the assigned worker (or the team
  // queue), the SLA timers, and "accepted" and "assigned" messages back to the referrer.
  // Deadlines count from the match (so a redelivery computes the same ones); `now` stamps the
  // events, so stage latencies measure when the task really appeared.
  absl::StatusOr<CaseChange> Open(const v1::Event& matched, absl::Time now) const;

  // A withdrawal: open tasks cancelled, timers dropped, personal details purged, the referrer
  // told. With no case yet (the withdrawal overtook the match) it leaves a withdrawn record so
  // that the match opens nothing. FAILED_PRECONDITION when the case has already ended.
  absl::StatusOr<CaseChange> Withdraw(const std::optional<LoadedCase>& current,
                                      const v1::Event& withdrawn, absl::Time now) const;

  absl::StatusOr<CaseChange> RecordContact(const LoadedCase& current,
                                           const v1::RecordContactRequest& request,
                                           absl::Time now) const;
  absl::StatusOr<CaseChange> AgreePlan(const LoadedCase& current,
                                       const v1::AgreePlanRequest& request, absl::Time now) const;
  // Checks the connection may be recorded; the caller reserves the place, then commits.
  absl::StatusOr<CaseChange> RecordConnection(const LoadedCase& current,
                                              const v1::RecordConnectionRequest& request,
                                              absl::Time now) const;
  absl::StatusOr<CaseChange> RecordAttendance(const LoadedCase& current,
                                              const v1::RecordAttendanceRequest& request,
                                              absl::Time now) const;
  absl::StatusOr<CaseChange> RecordOutcome(const LoadedCase& current,
                                           const v1::RecordOutcomeRequest& request,
                                           absl::Time now) const;
  absl::StatusOr<CaseChange> Close(const LoadedCase& current, const v1::CloseCaseRequest& request,
                                   absl::Time now) const;
  absl::StatusOr<CaseChange> Reassign(const LoadedCase& current,
                                      const v1::ReassignCaseRequest& request, absl::Time now) const;
  absl::StatusOr<CaseChange> CompleteTask(const LoadedCase& current,
                                          const v1::CompleteTaskRequest& request,
                                          absl::Time now) const;

  // A due timer. nullopt when it no longer matters (first contact made, case ended); the caller
  // then just drops it.
  std::optional<CaseChange> Fire(const LoadedCase& current, const v1::FollowUpTimer& timer,
                                 absl::Time now) const;

  // Every timer id a case can have, for cancelling them all.
  std::vector<std::string> TimerIds(const std::string& referral_id) const;

 private:
  WorkflowOptions options_;
};

}  // namespace signpost::followup
