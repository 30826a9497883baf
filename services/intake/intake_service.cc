#include "services/intake/intake_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"
#include "services/intake/referral_access.h"

namespace signpost::intake {

// The request and response stay valid until Finish(), so the work may use them from the pool.

absl::StatusOr<auth::Principal> IntakeService::Asker(const grpc::CallbackServerContext& context,
                                                     absl::string_view rpc) const {
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  if (absl::Status allowed = CanAskAboutReferrals(*caller, rpc); !allowed.ok()) return allowed;
  return caller;
}

grpc::ServerUnaryReactor* IntakeService::SubmitReferral(grpc::CallbackServerContext* context,
                                                        const v1::SubmitReferralRequest* request,
                                                        v1::SubmitReferralResponse* response) {
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (!request->has_referral()) {
    reactor->Finish(ToGrpcStatus(InvalidArgumentWithViolations({{"referral", "required"}})));
    return reactor;
  }
  if (absl::Status allowed = CanSubmit(*caller, request->referral()); !allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  std::string traceparent;
  if (auto it = context->client_metadata().find("traceparent");
      it != context->client_metadata().end()) {
    traceparent.assign(it->second.data(), it->second.size());
  }
  absl::Time deadline = absl::FromChrono(context->deadline());
  offload_.Run(context, reactor,
               [this, reactor, request, response, deadline, traceparent = std::move(traceparent)] {
                 Submission submission;
                 submission.referral = request->referral();
                 submission.channel = v1::SUBMISSION_CHANNEL_GRPC;
                 submission.traceparent = traceparent;
                 submission.deadline = deadline;
                 submitter_.SubmitAsync(std::move(submission),
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
  constexpr absl::string_view kRpc = "IntakeService/GetReferral";
  absl::StatusOr<auth::Principal> caller = Asker(*context, kRpc);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  offload_.Run(
      context, reactor, [this, reactor, request, response, caller = *std::move(caller), kRpc] {
        auto status = submitter_.GetStatus(
            *request, [&](absl::string_view ods) { return CanSeeReferral(caller, ods, kRpc); });
        if (status.ok()) *response = *std::move(status);
        reactor->Finish(ToGrpcStatus(status.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::WithdrawReferral(
    grpc::CallbackServerContext* context, const v1::WithdrawReferralRequest* request,
    v1::WithdrawReferralResponse* response) {
  auto* reactor = context->DefaultReactor();
  constexpr absl::string_view kRpc = "IntakeService/WithdrawReferral";
  absl::StatusOr<auth::Principal> caller = Asker(*context, kRpc);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  offload_.Run(
      context, reactor, [this, reactor, request, response, caller = *std::move(caller), kRpc] {
        v1::WithdrawReferralRequest as_caller = *request;
        if (caller.role != auth::Role::kDevelopment) {
          v1::GetReferralRequest get;
          get.set_referral_id(request->referral_id());
          auto current = submitter_.GetStatus(
              get, [&](absl::string_view ods) { return CanSeeReferral(caller, ods, kRpc); });
          if (!current.ok()) {
            reactor->Finish(ToGrpcStatus(current.status()));
            return;
          }
          // Who withdrew is who the token says, whatever the request claims.
          as_caller.set_withdrawn_by(
              absl::StrCat(auth::RoleName(caller.role), ":", caller.subject));
        }
        auto result = submitter_.Withdraw(as_caller);
        if (result.ok()) *response = *std::move(result);
        reactor->Finish(ToGrpcStatus(result.status()));
      });
  return reactor;
}

}  // namespace signpost::intake
