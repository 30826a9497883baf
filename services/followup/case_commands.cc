#include "services/followup/case_commands.h"

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/status/field_violations.h"
#include "services/followup/applied_requests.h"
#include "services/followup/case_access.h"

namespace signpost::followup {
namespace {

// Enough for any realistic contention on one case; past it the caller is told to try again.
constexpr int kAttempts = 8;

absl::Status Busy(const std::string& referral_id) {
  return absl::AbortedError(
      absl::StrCat("case ", referral_id, " kept changing while this was recorded: try again"));
}

}  // namespace

CaseCommands::CaseCommands(CaseStore& store, const CaseWorkflow& workflow, PlaceReserver* places,
                           std::function<absl::Time()> clock, std::function<void()> committed)
    : store_(store),
      workflow_(workflow),
      places_(places),
      clock_(std::move(clock)),
      committed_(std::move(committed)) {}

absl::Status CaseCommands::CommitNow(const CaseChange& change) {
  absl::Status s = store_.Commit(change);
  if (s.ok() && committed_) committed_();
  return s;
}

absl::StatusOr<v1::Case> CaseCommands::AsApplied(const v1::Case& kase) {
  if (absl::Status s = store_.AwaitReplicated(); !s.ok()) return s;
  return kase;
}

absl::StatusOr<std::optional<absl::Time>> CaseCommands::RemovedAt(const std::string& referral_id) {
  if (retirement_ == nullptr) return std::optional<absl::Time>();
  return retirement_->RemovedAt(referral_id);
}

absl::StatusOr<LoadedCase> CaseCommands::LoadFor(const std::string& queue,
                                                 const std::string& referral_id) {
  if (absl::Status s = CheckQueueName(queue); !s.ok()) return s;
  if (referral_id.empty()) return InvalidArgumentWithViolations({{"referral_id", "required"}});
  auto loaded = store_.Load(referral_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    auto removed = RemovedAt(referral_id);
    if (!removed.ok()) return removed.status();
    if (removed->has_value()) return retirement_->NoLongerHeld(referral_id, **removed);
    return absl::NotFoundError(absl::StrCat("no case for referral ", referral_id));
  }
  if (absl::Status s = CheckCaseAccess(queue, (*loaded)->kase); !s.ok()) return s;
  return **std::move(loaded);
}

absl::StatusOr<v1::Case> CaseCommands::GetCase(const std::string& queue,
                                               const std::string& referral_id) {
  auto loaded = LoadFor(queue, referral_id);
  if (!loaded.ok()) return loaded.status();
  return loaded->kase;
}

absl::StatusOr<v1::Case> CaseCommands::Act(const std::string& queue, const std::string& referral_id,
                                           const Rule& rule) {
  return Act(queue, referral_id, /*request_id=*/"", rule);
}

absl::StatusOr<v1::Case> CaseCommands::Act(const std::string& queue, const std::string& referral_id,
                                           const std::string& request_id, const Rule& rule) {
  if (absl::Status s = CheckRequestId(request_id); !s.ok()) return s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto loaded = LoadFor(queue, referral_id);
    if (!loaded.ok()) return loaded.status();
    // Applied before, its answer lost: the case as it is, with no second message or timer.
    if (AlreadyApplied(loaded->kase, request_id)) return AsApplied(loaded->kase);
    auto change = rule(*loaded, clock_());
    if (!change.ok()) return change.status();
    // In the same commit, which holds only if the case is still at the version loaded: a retry
    // racing its first try sees either the id or a lost race, and is then redone from here.
    RememberApplied(change->after, request_id);
    absl::Status s = CommitNow(*change);
    if (s.ok()) return change->after;
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return Busy(referral_id);
}

absl::StatusOr<v1::Case> CaseCommands::RecordConnection(const v1::RecordConnectionRequest& request,
                                                        const std::string& caller_token) {
  if (places_ == nullptr) {
    return absl::UnavailableError("no directory configured to reserve places (--directory)");
  }
  if (absl::Status s = CheckRequestId(request.request_id()); !s.ok()) return s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto loaded = LoadFor(request.link_worker_id(), request.referral_id());
    if (!loaded.ok()) return loaded.status();
    if (AlreadyApplied(loaded->kase, request.request_id())) return AsApplied(loaded->kase);
    auto change = workflow_.RecordConnection(*loaded, request, clock_());
    // The same connection again (a retry after a lost answer) succeeded the first time: the case
    // as it is, with no second place, message or timer.
    if (change.status().code() == absl::StatusCode::kAlreadyExists &&
        absl::c_linear_search(loaded->kase.connected_resource_ids(), request.resource_id())) {
      return AsApplied(loaded->kase);
    }
    if (!change.ok()) return change.status();
    // Reserved once per referral, so redoing after a lost race takes no second place.
    auto reserved = places_->Reserve(request.resource_id(), request.referral_id(), caller_token);
    if (!reserved.ok()) return reserved.status();
    RememberApplied(change->after, request.request_id());
    absl::Status s = CommitNow(*change);
    if (s.ok()) return change->after;
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return Busy(request.referral_id());
}

absl::StatusOr<v1::Task> CaseCommands::CompleteTask(const v1::CompleteTaskRequest& request) {
  if (request.task_id().empty()) return InvalidArgumentWithViolations({{"task_id", "required"}});
  if (absl::Status s = CheckRequestId(request.request_id()); !s.ok()) return s;
  if (absl::Status s = CheckQueueName(request.link_worker_id()); !s.ok()) return s;
  auto task = store_.GetTask(request.task_id());
  if (!task.ok()) return task.status();
  if (!task->has_value()) {
    return absl::NotFoundError(absl::StrCat("no task ", request.task_id()));
  }
  if (QueueOf(**task) != request.link_worker_id()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "task ", request.task_id(), " is not in the queue of ", request.link_worker_id()));
  }
  // A retry of a completion applied before finds the task done and the id applied: answered as
  // done, not refused as no longer open.
  auto kase = Act(request.link_worker_id(), (*task)->referral_id(), request.request_id(),
                  [&](const LoadedCase& current, absl::Time now) {
                    return workflow_.CompleteTask(current, request, now);
                  });
  if (!kase.ok()) return kase.status();
  v1::Task done = **task;
  done.set_status(v1::TASK_STATUS_DONE);
  return done;
}

absl::Status CaseCommands::Open(const v1::Event& matched) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto loaded = store_.Load(matched.envelope().referral_id());
    if (!loaded.ok()) return loaded.status();
    // Opened before, or withdrawn first; or opened, ended and removed since. Done, once that is
    // replicated (the event may be here again because its commit was refused its replicas).
    if (loaded->has_value()) return store_.AwaitReplicated();
    auto removed = RemovedAt(matched.envelope().referral_id());
    if (!removed.ok()) return removed.status();
    if (removed->has_value()) return store_.AwaitReplicated();
    auto change = workflow_.Open(matched, clock_());
    if (!change.ok()) return change.status();
    absl::Status s = CommitNow(*change);
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return Busy(matched.envelope().referral_id());
}

std::vector<absl::Status> CaseCommands::OpenMany(const std::vector<const v1::Event*>& matched) {
  std::vector<absl::Status> out(matched.size());
  std::vector<std::string> ids;
  ids.reserve(matched.size());
  for (const v1::Event* event : matched) ids.push_back(event->envelope().referral_id());
  auto exist = store_.Exist(ids);
  if (!exist.ok()) return std::vector<absl::Status>(matched.size(), exist.status());
  std::vector<CaseChange> changes;
  std::vector<size_t> change_of;  // the event of each change
  absl::Time now = clock_();
  // Those opened before (or withdrawn first) are done once that is replicated, as in Open.
  if (absl::c_linear_search(*exist, true)) {
    const absl::Status replicated = store_.AwaitReplicated();
    for (size_t i = 0; i < matched.size(); ++i) {
      if ((*exist)[i]) out[i] = replicated;
    }
  }
  for (size_t i = 0; i < matched.size(); ++i) {
    if ((*exist)[i]) continue;  // opened before, or withdrawn first
    auto change = workflow_.Open(*matched[i], now);
    if (!change.ok()) {
      out[i] = change.status();
      continue;
    }
    changes.push_back(*std::move(change));
    change_of.push_back(i);
  }
  std::vector<absl::Status> committed = store_.CommitMany(changes);
  bool any = false;
  for (size_t k = 0; k < committed.size(); ++k) {
    absl::Status& s = out[change_of[k]];
    s = committed[k].code() == absl::StatusCode::kAborted ? Open(*matched[change_of[k]])
                                                          : committed[k];
    any = any || (s.ok() && committed[k].ok());
  }
  if (any && committed_) committed_();
  return out;
}

absl::Status CaseCommands::Withdraw(const v1::Event& withdrawn) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto loaded = store_.Load(withdrawn.envelope().referral_id());
    if (!loaded.ok()) return loaded.status();
    if (!loaded->has_value()) {
      auto removed = RemovedAt(withdrawn.envelope().referral_id());
      if (!removed.ok()) return removed.status();
      // Ended and removed: nothing to withdraw.
      if (removed->has_value()) return store_.AwaitReplicated();
    }
    auto change = workflow_.Withdraw(*loaded, withdrawn, clock_());
    if (change.status().code() == absl::StatusCode::kFailedPrecondition) {
      // Already ended (withdrawn before, or closed): done once that is replicated, as in Open.
      return store_.AwaitReplicated();
    }
    if (!change.ok()) return change.status();
    absl::Status s = CommitNow(*change);
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return Busy(withdrawn.envelope().referral_id());
}

}  // namespace signpost::followup
