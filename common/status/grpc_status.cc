#include "common/status/grpc_status.h"

#include "common/status/field_violations.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace signpost {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  auto violations = ViolationsOf(status);
  if (violations.empty()) return grpc::Status(code, message);

  google::rpc::BadRequest bad_request;
  for (const auto& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (any.UnpackTo(&bad_request)) {
        std::vector<FieldViolation> violations;
        for (const auto& fv : bad_request.field_violations()) {
          violations.push_back({fv.field(), fv.description()});
        }
        // Keep the caller's code and message; carry the violations as our payload.
        absl::Status out(code, status.error_message());
        InvalidArgumentWithViolations(violations)
            .ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
              out.SetPayload(url, payload);
            });
        return out;
      }
    }
  }
  return absl::Status(code, status.error_message());
}

}  // namespace signpost
