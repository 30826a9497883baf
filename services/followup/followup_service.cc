#include "services/followup/followup_service.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <atomic>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"
#include "services/followup/case_access.h"

namespace signpost::followup {
namespace {

// A subscriber this far behind is cut off; it reconnects with its last token and loses nothing.
constexpr size_t kMaxPending = 10000;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const absl::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The call's status; its response filled when OK.
template <typename T>
absl::Status Fill(absl::StatusOr<T> result, T* response) {
  if (result.ok()) *response = *std::move(result);
  return result.status();
}

// What follow-up keeps in a case for itself, out of every answer: the ids of the actions it
// applied (a client's own ids, which say nothing the case does not).
void KeepOutOfAnswer(v1::Case& kase) { kase.clear_applied_request_ids(); }

// An action's answer: the case as it now is, without the person's details (GetCase gives them,
// and records that it did).
absl::Status FillAction(absl::StatusOr<v1::Case> result, v1::Case* response) {
  if (result.ok()) {
    StripPersonalFields(*result);
    KeepOutOfAnswer(*result);
  }
  return Fill(std::move(result), response);
}

grpc::Status TokenExpired() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "bearer token expired: reconnect with a fresh token and the last resume "
                      "token");
}

// One SubscribeTasks call: the snapshot (or what was missed), then updates as the feed delivers
// them, one write at a time. It ends when the caller's token stops being accepted, by an alarm,
// whether or not anything is being written.
class TaskStream final : public grpc::ServerWriteReactor<v1::TaskUpdate>,
                         public TaskFeed::Subscriber {
 public:
  explicit TaskStream(TaskFeed& feed) : feed_(feed) {}

  // Nothing is written once the caller's token is no longer accepted, and the stream ends then.
  void SetAcceptedUntil(absl::Time until) { accepted_until_ = until; }

  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(status));
  }

  void Begin(std::vector<v1::TaskUpdate> first, const std::string& queue,
             const std::string& token) {
    // Runs on a worker, maybe while gRPC cancels the call: a stream already ending is not
    // registered, and OnDone's removal waits for a registration under way (start_mu_).
    absl::MutexLock start(&start_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return;
      for (auto& update : first) pending_.push_back(std::move(update));
    }
    registered_ = true;
    feed_.Add(this, queue, token);
    if (accepted_until_ != absl::InfiniteFuture()) {
      // The alarm's callback holds a reference: the stream outlives it (see Release).
      refs_.fetch_add(1, std::memory_order_relaxed);
      expiry_set_ = true;
      expiry_.Set(absl::ToChronoTime(accepted_until_), [this](bool fired) { OnExpiry(fired); });
    }
    absl::MutexLock lock(&mu_);
    WriteNextLocked();
  }

  void Deliver(std::vector<v1::TaskUpdate> updates) override {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    for (auto& update : updates) pending_.push_back(std::move(update));
    if (pending_.size() > kMaxPending) {
      DropPendingLocked();
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "too far behind: reconnect with the last resume token"));
      return;
    }
    WriteNextLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    // The message just written: kept until now because gRPC may read it until the write is done.
    if (!pending_.empty()) pending_.pop_front();
    if (!ok) {
      pending_.clear();
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    // An end decided while this write was in flight (expiry, too far behind, cancel) waited for
    // it: finish now, or the stream would stay open past its token.
    if (finishing_) {
      FinishLocked(final_status_);
      return;
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    DropPendingLocked();
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      absl::MutexLock start(&start_mu_);
      if (registered_) feed_.Remove(this);
      // Its callback still runs (not fired), and releases the alarm's reference.
      if (expiry_set_) expiry_.Cancel();
    }
    Release();
  }

  // Work that starts the stream on a worker holds a reference while it runs.
  void Hold() { refs_.fetch_add(1, std::memory_order_relaxed); }

  // gRPC's OnDone, the expiry alarm and the start each hold a reference; the last one deletes
  // the stream.
  void Release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // Runs on gRPC's executor when the token expires (fired) or the alarm is cancelled.
  void OnExpiry(bool fired) {
    if (fired) {
      absl::MutexLock lock(&mu_);
      DropPendingLocked();
      FinishLocked(TokenExpired());
    }
    Release();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || pending_.empty() || finishing_) return;
    if (absl::Now() >= accepted_until_) {
      DropPendingLocked();
      FinishLocked(TokenExpired());
      return;
    }
    writing_ = true;
    StartWrite(&pending_.front());
  }

  // Drops what is still to be written, but not a message being written: StartWrite was given its
  // address, and OnWriteDone removes it.
  void DropPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    pending_.erase(writing_ && !pending_.empty() ? pending_.begin() + 1 : pending_.begin(),
                   pending_.end());
  }

  // Finish waits for a write in flight; OnWriteDone then finishes with the first status decided.
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (!finishing_) final_status_ = std::move(status);
    finishing_ = true;
    if (writing_) return;
    finished_ = true;
    Finish(final_status_);
  }

  TaskFeed& feed_;
  absl::Time accepted_until_ = absl::InfiniteFuture();
  // Orders Begin's registration with OnDone's removal; taken before mu_, never while feed_'s lock
  // is held (the feed delivers under it, and Deliver takes mu_).
  absl::Mutex start_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool registered_ ABSL_GUARDED_BY(start_mu_) = false;
  grpc::Alarm expiry_;
  bool expiry_set_ ABSL_GUARDED_BY(start_mu_) = false;
  std::atomic<int> refs_{1};
  absl::Mutex mu_;
  std::deque<v1::TaskUpdate> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// Starts `stream` where the caller asked: from its resume token while the feed still holds what
// came after it, else from a snapshot of the queue's open tasks. Reads Redis: runs on a worker.
void OpenStream(TaskStream& stream, TaskFeed& feed, CaseStore& store, const std::string& queue,
                const std::string& resume_token) {
  bool resume = false;
  if (!resume_token.empty()) {
    auto can = feed.CanResume(queue, resume_token);
    if (!can.ok()) {
      stream.Fail(can.status());
      return;
    }
    resume = *can;
  }
  if (resume) {
    stream.Begin({}, queue, resume_token);
    return;
  }
  auto first = SnapshotUpdates(store, queue);
  if (!first.ok()) {
    stream.Fail(first.status());
    return;
  }
  std::string token = first->back().resume_token();
  stream.Begin(*std::move(first), queue, token);
}

}  // namespace

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

FollowUpService::FollowUpService(CaseCommands& commands, CaseStore& store, TaskFeed& feed,
                                 AccessAudit& audit, const CaseDetailsSeal& seal,
                                 const auth::CallAuthenticator& auth, WorkerPool& workers)
    : commands_(commands),
      store_(store),
      feed_(feed),
      audit_(audit),
      seal_(seal),
      auth_(auth),
      offload_(workers, "follow-up") {}

absl::StatusOr<FollowUpService::Acting> FollowUpService::Authorise(
    const grpc::CallbackServerContext& context, const std::string& requested_queue,
    absl::string_view rpc) const {
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  absl::StatusOr<std::string> queue = ActingQueue(*caller, requested_queue, rpc);
  if (!queue.ok()) return queue.status();
  return Acting{*std::move(caller), *std::move(queue)};
}

grpc::ServerWriteReactor<v1::TaskUpdate>* FollowUpService::SubscribeTasks(
    grpc::CallbackServerContext* context, const v1::SubscribeTasksRequest* request) {
  auto* stream = new TaskStream(feed_);
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/SubscribeTasks");
  if (!acting.ok()) {
    stream->Fail(acting.status());
    return stream;
  }
  stream->SetAcceptedUntil(acting->caller.accepted_until);
  stream->Hold();
  offload_.Start(
      absl::FromChrono(context->deadline()),
      [this, stream, queue = acting->queue, token = request->resume_token()] {
        OpenStream(*stream, feed_, store_, queue, token);
        stream->Release();
      },
      [stream](const absl::Status& why) {
        stream->Fail(why);
        stream->Release();
      });
  return stream;
}

grpc::ServerUnaryReactor* FollowUpService::ListTasks(grpc::CallbackServerContext* context,
                                                     const v1::ListTasksRequest* request,
                                                     v1::ListTasksResponse* response) {
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/ListTasks");
  if (!acting.ok()) return Done(context, acting.status());
  return offload_.Answer(context, [this, queue = acting->queue, response]() -> absl::Status {
    auto snapshot = store_.Snapshot(queue);
    if (!snapshot.ok()) return snapshot.status();
    for (auto& task : snapshot->tasks) *response->add_tasks() = std::move(task);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FollowUpService::CompleteTask(grpc::CallbackServerContext* context,
                                                        const v1::CompleteTaskRequest* request,
                                                        v1::Task* response) {
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/CompleteTask");
  if (!acting.ok()) return Done(context, acting.status());
  v1::CompleteTaskRequest as_queue = *request;
  as_queue.set_link_worker_id(acting->queue);
  return offload_.Answer(context, [this, as_queue = std::move(as_queue), response] {
    return Fill(commands_.CompleteTask(as_queue), response);
  });
}

grpc::ServerUnaryReactor* FollowUpService::GetCase(grpc::CallbackServerContext* context,
                                                   const v1::GetCaseRequest* request,
                                                   v1::Case* response) {
  constexpr absl::string_view kRpc = "FollowUpService/GetCase";
  auto acting = Authorise(*context, request->link_worker_id(), kRpc);
  if (!acting.ok()) return Done(context, acting.status());
  // The purpose is kept for years beside the record: a short label, not a note about the person.
  if (request->purpose().size() > 100 ||
      std::any_of(request->purpose().begin(), request->purpose().end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Done(context, InvalidArgumentWithViolations(
                             {{"purpose",
                               "a short label of at most 100 characters, e.g. \"first contact "
                               "call\"; no personal details"}}));
  }
  return offload_.Answer(context, [this, acting = *std::move(acting), request, response] {
    absl::StatusOr<v1::Case> kase = commands_.GetCase(acting.queue, request->referral_id());
    // The one place the details kept in Redis are opened: for this caller, recorded first.
    if (kase.ok()) {
      if (absl::Status opened = seal_.Open(*kase); !opened.ok()) return opened;
    }
    if (kase.ok() && !PersonalFields(*kase).empty()) {
      absl::Status recorded =
          audit_.Record(kase->referral_id(), acting.queue, "signpost.v1.FollowUpService/GetCase",
                        request->purpose(), *kase, acting.caller);
      if (!recorded.ok()) return recorded;
    }
    if (kase.ok()) KeepOutOfAnswer(*kase);
    return Fill(std::move(kase), response);
  });
}

// Each action acts as the caller's queue: the request is taken as if it had named it.
#define SIGNPOST_CASE_ACTION(Method, Request, Rule)                                               \
  grpc::ServerUnaryReactor* FollowUpService::Method(                                              \
      grpc::CallbackServerContext* context, const v1::Request* request, v1::Case* response) {     \
    auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/" #Method);     \
    if (!acting.ok()) return Done(context, acting.status());                                      \
    v1::Request as_queue = *request;                                                              \
    as_queue.set_link_worker_id(acting->queue);                                                   \
    return offload_.Answer(context, [this, as_queue = std::move(as_queue), response] {            \
      const CaseWorkflow& workflow = commands_.workflow();                                        \
      return FillAction(                                                                          \
          commands_.Act(as_queue.link_worker_id(), as_queue.referral_id(), as_queue.request_id(), \
                        [&](const LoadedCase& current, absl::Time now) {                          \
                          return workflow.Rule(current, as_queue, now);                           \
                        }),                                                                       \
          response);                                                                              \
    });                                                                                           \
  }

SIGNPOST_CASE_ACTION(RecordContact, RecordContactRequest, RecordContact)
SIGNPOST_CASE_ACTION(AgreePlan, AgreePlanRequest, AgreePlan)
SIGNPOST_CASE_ACTION(RecordAttendance, RecordAttendanceRequest, RecordAttendance)
SIGNPOST_CASE_ACTION(RecordOutcome, RecordOutcomeRequest, RecordOutcome)
SIGNPOST_CASE_ACTION(CloseCase, CloseCaseRequest, Close)
SIGNPOST_CASE_ACTION(ReassignCase, ReassignCaseRequest, Reassign)

#undef SIGNPOST_CASE_ACTION

grpc::ServerUnaryReactor* FollowUpService::RecordConnection(
    grpc::CallbackServerContext* context, const v1::RecordConnectionRequest* request,
    v1::Case* response) {
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/RecordConnection");
  if (!acting.ok()) return Done(context, acting.status());
  v1::RecordConnectionRequest as_queue = *request;
  as_queue.set_link_worker_id(acting->queue);
  // The place is taken at the directory on the caller's behalf, with the caller's token; the call
  // to the directory waits on a worker.
  return offload_.Answer(context, [this, as_queue = std::move(as_queue),
                                   token = auth::BearerTokenOf(*context), response] {
    return FillAction(commands_.RecordConnection(as_queue, token), response);
  });
}

}  // namespace signpost::followup
