#pragma once

#include <functional>

#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"
#include "common/process/worker_pool.h"
#include "services/intake/submitter.h"
#include "signpost/v1/intake_service.grpc.pb.h"

namespace signpost::intake {

// signpost.v1.IntakeService on the callback API. SubmitReferral replies once the broker has
// acknowledged; no gRPC thread waits for it or for Redis.
class IntakeService final : public v1::IntakeService::CallbackService {
 public:
  // Work that waits (Redis, the broker) runs on `workers`, never on gRPC's callback threads. A
  // call that finds the workers' queue full is refused RESOURCE_EXHAUSTED at once; one whose
  // deadline passed while it waited is answered DEADLINE_EXCEEDED without being worked.
  // Every call is authenticated by `auth` and allowed by referral_access.h.
  IntakeService(Submitter& submitter, WorkerPool& workers, const auth::CallAuthenticator& auth)
      : submitter_(submitter), workers_(workers), auth_(auth) {}

  grpc::ServerUnaryReactor* SubmitReferral(grpc::CallbackServerContext* context,
                                           const v1::SubmitReferralRequest* request,
                                           v1::SubmitReferralResponse* response) override;
  grpc::ServerUnaryReactor* GetReferral(grpc::CallbackServerContext* context,
                                        const v1::GetReferralRequest* request,
                                        v1::GetReferralResponse* response) override;
  grpc::ServerUnaryReactor* WithdrawReferral(grpc::CallbackServerContext* context,
                                             const v1::WithdrawReferralRequest* request,
                                             v1::WithdrawReferralResponse* response) override;

 private:
  // The caller of GetReferral or WithdrawReferral, before the referral is looked up: a referrer
  // (or, without authentication, anyone).
  absl::StatusOr<auth::Principal> Asker(const grpc::CallbackServerContext& context,
                                        absl::string_view rpc) const;
  // Runs `work` on a worker unless the queue is full or the call's deadline has passed by the
  // time a worker takes it; in those cases the call is answered here.
  void Offload(grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
               std::function<void()> work);

  Submitter& submitter_;
  WorkerPool& workers_;
  const auth::CallAuthenticator& auth_;
};

}  // namespace signpost::intake
