#include "services/intake/intake_service.h"

#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"

namespace signpost::intake {

// The request and response stay valid until Finish(), so the work may use them from the pool.

grpc::ServerUnaryReactor* IntakeService::SubmitReferral(grpc::CallbackServerContext* context,
                                                        const v1::SubmitReferralRequest* request,
                                                        v1::SubmitReferralResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (!request->has_referral()) {
    reactor->Finish(ToGrpcStatus(InvalidArgumentWithViolations({{"referral", "required"}})));
    return reactor;
  }
  std::string traceparent;
  if (auto it = context->client_metadata().find("traceparent");
      it != context->client_metadata().end()) {
    traceparent.assign(it->second.data(), it->second.size());
  }
  workers_.Schedule([this, reactor, request, response, traceparent = std::move(traceparent)] {
    submitter_.SubmitAsync(request->referral(), v1::SUBMISSION_CHANNEL_GRPC, traceparent,
                           [reactor, response](absl::StatusOr<SubmitResult> result) {
                             if (!result.ok()) {
                               reactor->Finish(ToGrpcStatus(result.status()));
                               return;
                             }
                             response->set_referral_id(result->referral_id);
                             response->set_duplicate(result->duplicate);
                             response->set_priority(result->priority.urgency);
                             for (const auto& reason : result->priority.reasons) {
                               response->add_priority_reasons(reason);
                             }
                             reactor->Finish(grpc::Status::OK);
                           });
  });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::GetReferral(grpc::CallbackServerContext* context,
                                                     const v1::GetReferralRequest* request,
                                                     v1::GetReferralResponse* response) {
  auto* reactor = context->DefaultReactor();
  workers_.Schedule([this, reactor, request, response] {
    auto status = submitter_.GetStatus(*request);
    if (status.ok()) *response = *std::move(status);
    reactor->Finish(ToGrpcStatus(status.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::WithdrawReferral(
    grpc::CallbackServerContext* context, const v1::WithdrawReferralRequest* request,
    v1::WithdrawReferralResponse* response) {
  auto* reactor = context->DefaultReactor();
  workers_.Schedule([this, reactor, request, response] {
    auto result = submitter_.Withdraw(*request);
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace signpost::intake
