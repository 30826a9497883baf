#pragma once

#include <functional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/process/worker_pool.h"

namespace signpost {

// Moves a call's work off gRPC's callback threads onto a bounded WorkerPool. gRPC runs every
// callback handler, the health service's included, on a small fixed set of threads (gRPC 1.51:
// two a core); one that waits on Redis, the broker or another service holds one of them, and
// enough such calls stop the server answering anything. So a handler checks what it can without
// I/O (authentication, the request's shape) and hands the rest to a CallOffload.
//
// A call that finds the workers' queue full is refused RESOURCE_EXHAUSTED at once; one whose
// deadline passed while it waited is answered DEADLINE_EXCEEDED without being worked. Both say
// nothing was done, so the caller may retry.
class CallOffload {
 public:
  // `service` names the service in refusals ("intake is at capacity ...").
  CallOffload(WorkerPool& workers, std::string service)
      : workers_(workers), service_(std::move(service)) {}

  // Runs `work` on a worker, which finishes `reactor` itself; or finishes it with the refusal.
  // The call's request and response stay valid until Finish, so `work` may use them.
  void Run(grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
           std::function<void()> work) const;

  // The common case: the call's answer is what `work` returns (the response filled when OK).
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                   std::function<absl::Status()> work) const;

  // For streams and other reactors: exactly one of `work` (on a worker) and `refuse` (with the
  // RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED status) runs. `deadline` is the call's.
  void Start(absl::Time deadline, std::function<void()> work,
             std::function<void(const absl::Status&)> refuse) const;

 private:
  WorkerPool& workers_;
  const std::string service_;
};

}  // namespace signpost
