#include "common/grpc/call_offload.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"

namespace signpost {

void CallOffload::Start(absl::Time deadline, std::function<void()> work,
                        std::function<void(const absl::Status&)> refuse) const {
  // Shared with the queued work, which the pool drops without running it when the queue is full.
  auto refusal = std::make_shared<std::function<void(const absl::Status&)>>(std::move(refuse));
  bool queued = workers_.TrySchedule([deadline, refusal, work = std::move(work)] {
    if (absl::Now() >= deadline) {
      (*refusal)(absl::DeadlineExceededError(
          "the call's deadline passed while it waited for a worker; nothing was done: retry"));
      return;
    }
    work();
  });
  if (!queued) {
    (*refusal)(absl::ResourceExhaustedError(
        absl::StrCat(service_,
                     " is at capacity (every worker busy and the queue full); nothing was done: "
                     "retry with backoff")));
  }
}

void CallOffload::Run(grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
                      std::function<void()> work) const {
  Start(absl::FromChrono(context->deadline()), std::move(work),
        [reactor](const absl::Status& why) { reactor->Finish(ToGrpcStatus(why)); });
}

grpc::ServerUnaryReactor* CallOffload::Answer(grpc::CallbackServerContext* context,
                                              std::function<absl::Status()> work) const {
  auto* reactor = context->DefaultReactor();
  Run(context, reactor,
      [reactor, work = std::move(work)] { reactor->Finish(ToGrpcStatus(work())); });
  return reactor;
}

}  // namespace signpost
