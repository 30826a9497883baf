#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "services/followup/access_audit.h"
#include "services/followup/case_commands.h"
#include "services/followup/case_details_seal.h"
#include "services/followup/case_store.h"
#include "services/followup/task_feed.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// What follow-up answers to a link worker or coordinator, whatever carries the call: gRPC
// (FollowUpService) and the link-worker app's HTTP routes call the same CaseApi, so both see and
// change cases under the same rules, and both audit the opening of a person's details.

// The caller of one call, the queue it acts as, and its bearer token (passed on when follow-up
// reserves a place at the directory on the caller's behalf; empty: none).
struct Acting {
  auth::Principal caller;
  std::string queue;
  std::string bearer_token;
};

// The queue `caller` acts as for `rpc` (case_access.h ActingQueue: `requested_queue` counts only
// for a development caller, or when it names the caller's own queue). PERMISSION_DENIED or
// INVALID_ARGUMENT (field link_worker_id) as ActingQueue says. No I/O.
absl::StatusOr<Acting> ActingFor(const auth::Principal& caller, const std::string& requested_queue,
                                 absl::string_view rpc, std::string bearer_token);

// INVALID_ARGUMENT (field purpose) unless `purpose` is a short label: at most 100 characters, no
// control characters. It is kept for years beside the access record. No I/O.
absl::Status CheckPurpose(const std::string& purpose);

// How each caller's opening of the details is named in the audit record (PersonalDataAccess.rpc).
inline constexpr absl::string_view kAuditedAsGrpcGetCase = "signpost.v1.FollowUpService/GetCase";
inline constexpr absl::string_view kAuditedAsAppGetCase = "followup-app/GetCase";

// A queue's open tasks as a stream starts with them: snapshot updates, then snapshot_end with
// the feed's resume token at that moment.
absl::StatusOr<std::vector<v1::TaskUpdate>> SnapshotUpdates(CaseStore& store,
                                                            const std::string& queue);

// What ViewCase answers: the case without the person's details (StripPersonalFields), without
// what follow-up keeps for itself (applied_request_ids), and without profile.home_postcode
// (profile.postcode_district stays). An app that shows action answers applies this to them too,
// so that none of its answers shows more than ViewCase does.
void StripToView(v1::Case& kase);

// The case logic behind every call a link worker or coordinator makes. Each method blocks (Redis,
// the broker, the directory): run it on a worker (gRPC) or a route thread (HTTP), never on a
// transport's event threads. Each acts as `acting.queue`: a request's own link_worker_id is
// replaced by it, and a case of another queue is PERMISSION_DENIED (case_access.h).
class CaseApi {
 public:
  CaseApi(CaseCommands& commands, CaseStore& store, TaskFeed& feed, AccessAudit& audit,
          const CaseDetailsSeal& seal);

  // The queue's open tasks, oldest first.
  absl::StatusOr<std::vector<v1::Task>> ListTasks(const Acting& acting);
  absl::StatusOr<v1::Task> CompleteTask(const Acting& acting, v1::CompleteTaskRequest request);

  // The case with the person's details, opened for this caller: the access is recorded on
  // signpost.audit.access (rpc `audited_as`, the request's purpose) and acknowledged before the
  // case is answered; a case with no details left is answered without a record. The purpose is
  // checked first (CheckPurpose).
  absl::StatusOr<v1::Case> GetCase(const Acting& acting, const v1::GetCaseRequest& request,
                                   absl::string_view audited_as);
  // The case as StripToView leaves it: nothing personal opened, so nothing recorded. The same
  // access check as the actions.
  absl::StatusOr<v1::Case> ViewCase(const Acting& acting, const std::string& referral_id);

  // Each action answers the case after it without the person's details (StripPersonalFields)
  // and without applied_request_ids, as FollowUpService's actions do.
  absl::StatusOr<v1::Case> RecordContact(const Acting& acting, v1::RecordContactRequest request);
  absl::StatusOr<v1::Case> AgreePlan(const Acting& acting, v1::AgreePlanRequest request);
  // Reserves the place at the directory with acting.bearer_token, then records the connection.
  absl::StatusOr<v1::Case> RecordConnection(const Acting& acting,
                                            v1::RecordConnectionRequest request);
  absl::StatusOr<v1::Case> RecordAttendance(const Acting& acting,
                                            v1::RecordAttendanceRequest request);
  absl::StatusOr<v1::Case> RecordOutcome(const Acting& acting, v1::RecordOutcomeRequest request);
  absl::StatusOr<v1::Case> CloseCase(const Acting& acting, v1::CloseCaseRequest request);
  absl::StatusOr<v1::Case> ReassignCase(const Acting& acting, v1::ReassignCaseRequest request);

  // Where a task stream of `queue` starts: from `resume_token` while the feed still holds what
  // came after it (no updates first; cursor = that token), else from a snapshot of the queue's
  // open tasks (first = the snapshot updates ending with snapshot_end; cursor = its token).
  // INVALID_ARGUMENT (field resume_token) for a token the feed cannot know. The caller writes
  // `first`, then registers its subscriber with TaskFeed::Add(subscriber, queue, cursor): updates
  // after the cursor, none missed, none twice.
  struct Start {
    std::vector<v1::TaskUpdate> first;
    std::string cursor;
  };
  absl::StatusOr<Start> StreamStart(const std::string& queue, const std::string& resume_token);

 private:
  template <typename Request, typename Rule>
  absl::StatusOr<v1::Case> Act(const Acting& acting, Request request, Rule rule);

  CaseCommands& commands_;
  CaseStore& store_;
  TaskFeed& feed_;
  AccessAudit& audit_;
  const CaseDetailsSeal& seal_;
};

}  // namespace signpost::followup
