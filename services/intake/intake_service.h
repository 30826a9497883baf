#pragma once

#include "services/intake/submitter.h"
#include "signpost/v1/intake_service.grpc.pb.h"

namespace signpost::intake {

// signpost.v1.IntakeService on the callback API. SubmitReferral replies from the producer's
// delivery callback, so no server thread waits on the broker.
class IntakeService final : public v1::IntakeService::CallbackService {
 public:
  explicit IntakeService(Submitter& submitter) : submitter_(submitter) {}

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
  Submitter& submitter_;
};

}  // namespace signpost::intake
