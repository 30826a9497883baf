#include "services/followup/case_api.h"

#include <algorithm>

#include "common/status/field_violations.h"
#include "services/followup/case_access.h"

namespace signpost::followup {
namespace {

// What follow-up keeps in a case for itself, out of every answer: the ids of the actions it
// applied (a client's own ids, which say nothing the case does not).
void KeepOutOfAnswer(v1::Case& kase) { kase.clear_applied_request_ids(); }

// An action's answer: the case as it now is, without the person's details (GetCase gives them,
// and records that it did).
absl::StatusOr<v1::Case> ActionAnswer(absl::StatusOr<v1::Case> result) {
  if (result.ok()) {
    StripPersonalFields(*result);
    KeepOutOfAnswer(*result);
  }
  return result;
}

}  // namespace

absl::StatusOr<Acting> ActingFor(const auth::Principal& caller, const std::string& requested_queue,
                                 absl::string_view rpc, std::string bearer_token) {
  absl::StatusOr<std::string> queue = ActingQueue(caller, requested_queue, rpc);
  if (!queue.ok()) return queue.status();
  return Acting{caller, *std::move(queue), std::move(bearer_token)};
}

absl::Status CheckPurpose(const std::string& purpose) {
  // The purpose is kept for years beside the record: a short label, not a note about the person.
  if (purpose.size() > 100 || std::any_of(purpose.begin(), purpose.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      })) {
    return InvalidArgumentWithViolations(
        {{"purpose",
          "a short label of at most 100 characters, e.g. \"first contact call\"; no personal "
          "details"}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::TaskUpdate>> SnapshotUpdates(CaseStore& store,
                                                            const std::string& queue) {
  auto snapshot = store.Snapshot(queue);
  if (!snapshot.ok()) return snapshot.status();
  std::vector<v1::TaskUpdate> updates;
  for (auto& task : snapshot->tasks) {
    v1::TaskUpdate update;
    *update.mutable_task() = std::move(task);
    update.set_snapshot(true);
    updates.push_back(std::move(update));
  }
  // Only the end of the snapshot carries a token: resuming from it cannot skip snapshot tasks.
  v1::TaskUpdate end;
  end.set_snapshot_end(true);
  end.set_resume_token(snapshot->token);
  updates.push_back(std::move(end));
  return updates;
}

void StripToView(v1::Case& kase) {
  StripPersonalFields(kase);
  KeepOutOfAnswer(kase);
  // Where the person lives, to the postcode: matching has used it; the district says enough.
  kase.mutable_profile()->clear_home_postcode();
  if (kase.profile().ByteSizeLong() == 0) kase.clear_profile();
}

CaseApi::CaseApi(CaseCommands& commands, CaseStore& store, TaskFeed& feed, AccessAudit& audit,
                 const CaseDetailsSeal& seal)
    : commands_(commands), store_(store), feed_(feed), audit_(audit), seal_(seal) {}

absl::StatusOr<std::vector<v1::Task>> CaseApi::ListTasks(const Acting& acting) {
  auto snapshot = store_.Snapshot(acting.queue);
  if (!snapshot.ok()) return snapshot.status();
  return std::move(snapshot->tasks);
}

absl::StatusOr<v1::Task> CaseApi::CompleteTask(const Acting& acting,
                                               v1::CompleteTaskRequest request) {
  request.set_link_worker_id(acting.queue);
  return commands_.CompleteTask(request);
}

absl::StatusOr<v1::Case> CaseApi::GetCase(const Acting& acting, const v1::GetCaseRequest& request,
                                          absl::string_view audited_as) {
  if (absl::Status s = CheckPurpose(request.purpose()); !s.ok()) return s;
  absl::StatusOr<v1::Case> kase = commands_.GetCase(acting.queue, request.referral_id());
  if (!kase.ok()) return kase.status();
  // The one place the details kept in Redis are opened: for this caller, recorded first.
  if (absl::Status opened = seal_.Open(*kase); !opened.ok()) return opened;
  if (!PersonalFields(*kase).empty()) {
    absl::Status recorded =
        audit_.Record(kase->referral_id(), acting.queue, std::string(audited_as), request.purpose(),
                      *kase, acting.caller);
    if (!recorded.ok()) return recorded;
  }
  KeepOutOfAnswer(*kase);
  return kase;
}

absl::StatusOr<v1::Case> CaseApi::ViewCase(const Acting& acting, const std::string& referral_id) {
  // Loaded as the store holds it: the details stay sealed, and are then left out.
  absl::StatusOr<v1::Case> kase = commands_.GetCase(acting.queue, referral_id);
  if (kase.ok()) StripToView(*kase);
  return kase;
}

// Each action acts as the caller's queue: the request is taken as if it had named it.
template <typename Request, typename Rule>
absl::StatusOr<v1::Case> CaseApi::Act(const Acting& acting, Request request, Rule rule) {
  request.set_link_worker_id(acting.queue);
  const CaseWorkflow& workflow = commands_.workflow();
  return ActionAnswer(commands_.Act(request.link_worker_id(), request.referral_id(),
                                    request.request_id(),
                                    [&](const LoadedCase& current, absl::Time now) {
                                      return (workflow.*rule)(current, request, now);
                                    }));
}

absl::StatusOr<v1::Case> CaseApi::RecordContact(const Acting& acting,
                                                v1::RecordContactRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::RecordContact);
}

absl::StatusOr<v1::Case> CaseApi::AgreePlan(const Acting& acting, v1::AgreePlanRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::AgreePlan);
}

absl::StatusOr<v1::Case> CaseApi::RecordAttendance(const Acting& acting,
                                                   v1::RecordAttendanceRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::RecordAttendance);
}

absl::StatusOr<v1::Case> CaseApi::RecordOutcome(const Acting& acting,
                                                v1::RecordOutcomeRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::RecordOutcome);
}

absl::StatusOr<v1::Case> CaseApi::CloseCase(const Acting& acting, v1::CloseCaseRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::Close);
}

absl::StatusOr<v1::Case> CaseApi::ReassignCase(const Acting& acting,
                                               v1::ReassignCaseRequest request) {
  return Act(acting, std::move(request), &CaseWorkflow::Reassign);
}

absl::StatusOr<v1::Case> CaseApi::RecordConnection(const Acting& acting,
                                                   v1::RecordConnectionRequest request) {
  request.set_link_worker_id(acting.queue);
  // The place is taken at the directory on the caller's behalf, with the caller's token.
  return ActionAnswer(commands_.RecordConnection(request, acting.bearer_token));
}

absl::StatusOr<CaseApi::Start> CaseApi::StreamStart(const std::string& queue,
                                                    const std::string& resume_token) {
  if (!resume_token.empty()) {
    absl::StatusOr<bool> resume = feed_.CanResume(queue, resume_token);
    if (!resume.ok()) return resume.status();
    if (*resume) return Start{{}, resume_token};
  }
  // No token, or the feed trimmed past it: the open tasks again, from a snapshot.
  auto first = SnapshotUpdates(store_, queue);
  if (!first.ok()) return first.status();
  std::string cursor = first->back().resume_token();
  return Start{*std::move(first), std::move(cursor)};
}

}  // namespace signpost::followup
