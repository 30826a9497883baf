#pragma once

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/auth/token_source.h"
#include "signpost/v1/followup_service.grpc.pb.h"
#include "tools/demo/agenda.h"

namespace signpost::demo {

struct LinkWorkerCounts {
  std::atomic<int> tasks_seen{0};
  std::atomic<int> cases_closed{0};
  std::atomic<int> refused{0};  // actions the service refused (a case moved on meanwhile)
};

// A simulated link-worker app: subscribes to one queue (a link worker's, or a network's team
// queue), and works each new case as a link worker would, a step every `pace` or so: first
// contact (sometimes only at the second try), a plan, a baseline ONS4, a connection to one of the
// matched options (the next one when a place is gone), attendance, a second ONS4, closure. Some
// people decline. Other tasks (SLA alerts, check-ins) are acknowledged. Each action carries a
// request id and is retried with it when unavailable, so it is applied once.
class LinkWorkerApp {
 public:
  // `token` is the queue owner's (a link worker, or the network's coordinator); null when
  // follow-up runs with --no-auth.
  LinkWorkerApp(std::shared_ptr<v1::FollowUpService::StubInterface> stub, std::string queue,
                std::shared_ptr<auth::TokenSource> token, absl::Duration pace, uint64_t seed,
                Agenda& agenda, LinkWorkerCounts& counts);

  // Subscribes until `stop`, resuming after a broken stream with the last token.
  void Run(const std::atomic<bool>& stop);

 private:
  void OnTask(const v1::Task& task);
  void Step(const std::string& referral_id, const std::string& task_id, int step, int attempt);
  void CompleteTask(const std::string& task_id, const std::string& note);
  absl::Time Later();
  // A fresh id for one action, sent again on its retries (unavailable, deadline passed).
  std::string NewRequestId();
  void Authorise(grpc::ClientContext& context);
  template <typename Request>
  grpc::Status Act(grpc::Status (v1::FollowUpService::StubInterface::*method)(grpc::ClientContext*,
                                                                              const Request&,
                                                                              v1::Case*),
                   Request request, v1::Case* out = nullptr);

  std::shared_ptr<v1::FollowUpService::StubInterface> stub_;
  const std::string queue_;
  std::shared_ptr<auth::TokenSource> token_;
  const absl::Duration pace_;
  Agenda& agenda_;
  LinkWorkerCounts& counts_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::demo
