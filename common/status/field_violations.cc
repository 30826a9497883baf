#include "common/status/field_violations.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace signpost {
namespace {

// The payload key follows the convention of type URLs so that tools recognise it.
constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";

absl::Status WithViolations(absl::StatusCode code, const std::vector<FieldViolation>& violations) {
  if (violations.empty()) return absl::OkStatus();
  std::string message = violations.front().field + ": " + violations.front().description;
  if (violations.size() > 1) {
    absl::StrAppend(&message, " (and ", violations.size() - 1, " more)");
  }
  google::rpc::BadRequest bad_request;
  for (const auto& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  absl::Status status(code, message);
  status.SetPayload(kBadRequestUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

}  // namespace

absl::Status InvalidArgumentWithViolations(const std::vector<FieldViolation>& violations) {
  return WithViolations(absl::StatusCode::kInvalidArgument, violations);
}

absl::Status FailedPreconditionWithViolations(const std::vector<FieldViolation>& violations) {
  return WithViolations(absl::StatusCode::kFailedPrecondition, violations);
}

std::vector<FieldViolation> ViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kBadRequestUrl);
  if (!payload.has_value()) return out;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return out;
  for (const auto& fv : bad_request.field_violations()) {
    out.push_back({fv.field(), fv.description()});
  }
  return out;
}

}  // namespace signpost
