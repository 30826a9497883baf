#include "services/followup/followup_service.h"

#include <grpcpp/alarm.h>

#include <atomic>
#include <deque>

#include "absl/strings/string_view.h"
#include "common/status/grpc_status.h"

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

// Starts `stream` where the caller asked (CaseApi::StreamStart). Reads Redis: runs on a worker.
void OpenStream(TaskStream& stream, CaseApi& api, const std::string& queue,
                const std::string& resume_token) {
  absl::StatusOr<CaseApi::Start> start = api.StreamStart(queue, resume_token);
  if (!start.ok()) {
    stream.Fail(start.status());
    return;
  }
  stream.Begin(std::move(start->first), queue, start->cursor);
}

}  // namespace

FollowUpService::FollowUpService(CaseCommands& commands, CaseStore& store, TaskFeed& feed,
                                 AccessAudit& audit, const CaseDetailsSeal& seal,
                                 const auth::CallAuthenticator& auth, WorkerPool& workers)
    : api_(commands, store, feed, audit, seal),
      feed_(feed),
      auth_(auth),
      offload_(workers, "follow-up") {}

absl::StatusOr<Acting> FollowUpService::Authorise(const grpc::CallbackServerContext& context,
                                                  const std::string& requested_queue,
                                                  absl::string_view rpc) const {
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  return ActingFor(*caller, requested_queue, rpc, auth::BearerTokenOf(context));
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
        OpenStream(*stream, api_, queue, token);
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
  return offload_.Answer(context, [this, acting = *std::move(acting), response]() -> absl::Status {
    auto tasks = api_.ListTasks(acting);
    if (!tasks.ok()) return tasks.status();
    for (auto& task : *tasks) *response->add_tasks() = std::move(task);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FollowUpService::CompleteTask(grpc::CallbackServerContext* context,
                                                        const v1::CompleteTaskRequest* request,
                                                        v1::Task* response) {
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/CompleteTask");
  if (!acting.ok()) return Done(context, acting.status());
  return offload_.Answer(context, [this, acting = *std::move(acting), request, response] {
    return Fill(api_.CompleteTask(acting, *request), response);
  });
}

grpc::ServerUnaryReactor* FollowUpService::GetCase(grpc::CallbackServerContext* context,
                                                   const v1::GetCaseRequest* request,
                                                   v1::Case* response) {
  auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/GetCase");
  if (!acting.ok()) return Done(context, acting.status());
  // Refused before any work is queued (CaseApi::GetCase checks it as well).
  if (absl::Status purpose = CheckPurpose(request->purpose()); !purpose.ok()) {
    return Done(context, purpose);
  }
  return offload_.Answer(context, [this, acting = *std::move(acting), request, response] {
    return Fill(api_.GetCase(acting, *request, kAuditedAsGrpcGetCase), response);
  });
}

// Each action: authorised here, then carried out by CaseApi on a worker.
#define SIGNPOST_CASE_ACTION(Method, Request)                                                 \
  grpc::ServerUnaryReactor* FollowUpService::Method(                                          \
      grpc::CallbackServerContext* context, const v1::Request* request, v1::Case* response) { \
    auto acting = Authorise(*context, request->link_worker_id(), "FollowUpService/" #Method); \
    if (!acting.ok()) return Done(context, acting.status());                                  \
    return offload_.Answer(context, [this, acting = *std::move(acting), request, response] {  \
      return Fill(api_.Method(acting, *request), response);                                   \
    });                                                                                       \
  }

SIGNPOST_CASE_ACTION(RecordContact, RecordContactRequest)
SIGNPOST_CASE_ACTION(AgreePlan, AgreePlanRequest)
SIGNPOST_CASE_ACTION(RecordConnection, RecordConnectionRequest)
SIGNPOST_CASE_ACTION(RecordAttendance, RecordAttendanceRequest)
SIGNPOST_CASE_ACTION(RecordOutcome, RecordOutcomeRequest)
SIGNPOST_CASE_ACTION(CloseCase, CloseCaseRequest)
SIGNPOST_CASE_ACTION(ReassignCase, ReassignCaseRequest)

#undef SIGNPOST_CASE_ACTION

}  // namespace signpost::followup
