#include "tools/demo/link_worker_app.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "common/auth/call_authenticator.h"

namespace signpost::demo {
namespace {

// A call that failed this way may have been applied (its answer lost): tried again, with the
// same request id, so it is applied once.
bool Retryable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

constexpr int kTries = 3;

// The journey of a case, one step at a time.
enum Step {
  kContact = 0,
  kPlan,
  kBaseline,
  kConnect,
  kAttend,
  kOutcome,
  kClose,
};

}  // namespace

LinkWorkerApp::LinkWorkerApp(std::shared_ptr<v1::FollowUpService::StubInterface> stub,
                             std::string queue, std::shared_ptr<auth::TokenSource> token,
                             absl::Duration pace, uint64_t seed, Agenda& agenda,
                             LinkWorkerCounts& counts)
    : stub_(std::move(stub)),
      queue_(std::move(queue)),
      token_(std::move(token)),
      pace_(pace),
      agenda_(agenda),
      counts_(counts),
      rng_(seed) {}

void LinkWorkerApp::Authorise(grpc::ClientContext& context) {
  if (token_ != nullptr) auth::AttachBearerToken(context, token_->Current());
}

std::string LinkWorkerApp::NewRequestId() {
  absl::MutexLock lock(&mu_);
  uint64_t high = rng_(), low = rng_();
  return absl::StrFormat("demo-%016x%016x", high, low);
}

absl::Time LinkWorkerApp::Later() {
  absl::MutexLock lock(&mu_);
  // Between half and one and a half paces.
  return absl::Now() + pace_ / 2 + pace_ * (static_cast<double>(rng_() % 1000) / 1000.0);
}

template <typename Request>
grpc::Status LinkWorkerApp::Act(grpc::Status (v1::FollowUpService::StubInterface::*method)(
                                    grpc::ClientContext*, const Request&, v1::Case*),
                                Request request, v1::Case* out) {
  request.set_link_worker_id(queue_);
  request.set_request_id(NewRequestId());  // one per action, the same on each retry of it
  v1::Case response;
  grpc::Status status;
  for (int i = 0; i < kTries; ++i) {
    grpc::ClientContext context;
    Authorise(context);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    status = ((*stub_).*method)(&context, request, out ? out : &response);
    if (!Retryable(status)) break;
  }
  if (!status.ok() && status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
    ++counts_.refused;
  }
  return status;
}

void LinkWorkerApp::Run(const std::atomic<bool>& stop) {
  std::string token;
  while (!stop) {
    grpc::ClientContext context;
    Authorise(context);
    v1::SubscribeTasksRequest request;
    request.set_link_worker_id(queue_);
    request.set_resume_token(token);
    auto reader = stub_->SubscribeTasks(&context, request);
    v1::TaskUpdate update;
    // A read blocks until the next update: a watcher cancels the call when asked to stop.
    std::atomic<bool> done{false};
    std::thread watch([&] {
      while (!stop && !done) absl::SleepFor(absl::Milliseconds(100));
      if (stop) context.TryCancel();  // else the stream ended by itself: keep its status
    });
    while (reader->Read(&update)) {
      if (!update.resume_token().empty()) token = update.resume_token();
      if (update.has_task() && update.task().status() == v1::TASK_STATUS_OPEN) {
        OnTask(update.task());
      }
    }
    done = true;
    watch.join();
    grpc::Status status = reader->Finish();
    if (stop) break;
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) token.clear();
    spdlog::debug("{}: subscription ended ({}); again in 1 s", queue_, status.error_message());
    absl::SleepFor(absl::Seconds(1));
  }
}

void LinkWorkerApp::OnTask(const v1::Task& task) {
  ++counts_.tasks_seen;
  const std::string referral_id = task.referral_id();
  const std::string task_id = task.id();
  if (task.kind() == v1::TASK_KIND_FIRST_CONTACT || task.kind() == v1::TASK_KIND_REASSIGNED_CASE) {
    agenda_.At(Later(), [this, referral_id, task_id] { Step(referral_id, task_id, kContact, 0); });
    return;
  }
  // An alert or a check-in: seen, and done.
  agenda_.At(Later(), [this, task_id] { CompleteTask(task_id, "seen"); });
}

void LinkWorkerApp::CompleteTask(const std::string& task_id, const std::string& note) {
  v1::CompleteTaskRequest complete;
  complete.set_link_worker_id(queue_);
  complete.set_task_id(task_id);
  complete.set_note(note);
  complete.set_request_id(NewRequestId());
  v1::Task ignored;
  grpc::Status status;
  for (int i = 0; i < kTries; ++i) {
    grpc::ClientContext context;
    Authorise(context);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    status = stub_->CompleteTask(&context, complete, &ignored);
    if (!Retryable(status)) break;
  }
  if (!status.ok()) ++counts_.refused;
}

void LinkWorkerApp::Step(const std::string& referral_id, const std::string& task_id, int step,
                         int attempt) {
  int roll;
  {
    absl::MutexLock lock(&mu_);
    roll = static_cast<int>(rng_() % 100);
  }
  auto next = [&](int next_step, int next_attempt = 0) {
    agenda_.At(Later(), [this, referral_id, task_id, next_step, next_attempt] {
      Step(referral_id, task_id, next_step, next_attempt);
    });
  };
  auto close = [&](v1::ClosureReason reason, const std::string& note) {
    v1::CloseCaseRequest request;
    request.set_referral_id(referral_id);
    request.set_reason(reason);
    request.set_note(note);
    if (Act(&v1::FollowUpService::StubInterface::CloseCase, request).ok()) ++counts_.cases_closed;
  };
  switch (step) {
    case kContact: {
      v1::RecordContactRequest request;
      request.set_referral_id(referral_id);
      const bool reached = attempt > 0 || roll >= 20;
      request.set_result(reached ? v1::CONTACT_RESULT_REACHED : v1::CONTACT_RESULT_NO_ANSWER);
      request.set_note(reached ? "spoke on the phone" : "no answer; will try again");
      if (!Act(&v1::FollowUpService::StubInterface::RecordContact, request).ok()) return;
      if (!reached) return next(kContact, attempt + 1);
      // Reaching the person completed the first-contact task.
      if (roll < 28) return close(v1::CLOSURE_REASON_DECLINED, "does not want support just now");
      return next(kPlan);
    }
    case kPlan: {
      v1::AgreePlanRequest request;
      request.set_referral_id(referral_id);
      request.set_plan("What matters to me: getting out and meeting people. Steps: try a group.");
      if (!Act(&v1::FollowUpService::StubInterface::AgreePlan, request).ok()) return;
      return next(kBaseline);
    }
    case kBaseline:
    case kOutcome: {
      v1::RecordOutcomeRequest request;
      request.set_referral_id(referral_id);
      auto* ons4 = request.mutable_measure()->mutable_ons4();
      const int lift = step == kOutcome ? 1 + roll % 3 : 0;
      ons4->set_life_satisfaction(std::min(10, 4 + roll % 3 + lift));
      ons4->set_worthwhile(std::min(10, 5 + roll % 2 + lift));
      ons4->set_happiness(std::min(10, 4 + roll % 4 + lift));
      ons4->set_anxiety(std::max(0, 6 - roll % 3 - lift));
      if (!Act(&v1::FollowUpService::StubInterface::RecordOutcome, request).ok()) return;
      return next(step == kBaseline ? kConnect : kClose);
    }
    case kConnect: {
      v1::GetCaseRequest get;
      get.set_link_worker_id(queue_);
      get.set_referral_id(referral_id);
      grpc::ClientContext context;
      Authorise(context);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::Case c;
      if (!stub_->GetCase(&context, get, &c).ok()) return;
      // The options in the order matching ranked them, the first need first; `attempt` skips
      // the ones already found full.
      int index = 0;
      for (const auto& need : c.needs()) {
        for (const auto& option : need.options()) {
          if (index++ < attempt) continue;
          v1::RecordConnectionRequest request;
          request.set_referral_id(referral_id);
          request.set_resource_id(option.resource_id());
          grpc::Status s = Act(&v1::FollowUpService::StubInterface::RecordConnection, request);
          if (s.ok()) return next(kAttend);
          if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) return next(kConnect, index);
          return;
        }
      }
      return close(v1::CLOSURE_REASON_NO_SUITABLE_PROVISION, "nothing suitable had a place");
    }
    case kAttend: {
      v1::RecordAttendanceRequest request;
      request.set_referral_id(referral_id);
      request.set_attended(roll >= 10);
      request.set_note(roll >= 10 ? "went, and liked it" : "did not go");
      if (!Act(&v1::FollowUpService::StubInterface::RecordAttendance, request).ok()) return;
      return next(kOutcome);
    }
    case kClose:
      return close(v1::CLOSURE_REASON_COMPLETED, "connected and doing well");
  }
}

}  // namespace signpost::demo
