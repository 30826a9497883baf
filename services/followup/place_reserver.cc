#include "services/followup/place_reserver.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/status/grpc_status.h"

namespace signpost::followup {

GrpcPlaceReserver::GrpcPlaceReserver(const std::string& directory_address,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials)
    : stub_(v1::DirectoryService::NewStub(
          grpc::CreateChannel(directory_address, std::move(credentials)))) {}

absl::StatusOr<v1::ReservePlaceResponse> GrpcPlaceReserver::Reserve(
    const std::string& resource_id, const std::string& referral_id,
    const std::string& caller_token) {
  grpc::ClientContext context;
  auth::AttachBearerToken(context, caller_token);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ReservePlaceRequest request;
  request.set_resource_id(resource_id);
  request.set_referral_id(referral_id);
  v1::ReservePlaceResponse response;
  grpc::Status status = stub_->ReservePlace(&context, request, &response);
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    if (s.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::UnavailableError(
          absl::StrCat("the directory did not answer a place reservation: ", s.message()));
    }
    return s;
  }
  return response;
}

}  // namespace signpost::followup
