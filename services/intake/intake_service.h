#pragma once

#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"
#include "common/grpc/call_offload.h"
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
      : submitter_(submitter), offload_(workers, "intake"), auth_(auth) {}

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

  Submitter& submitter_;
  CallOffload offload_;
  const auth::CallAuthenticator& auth_;
};

}  // namespace signpost::intake
