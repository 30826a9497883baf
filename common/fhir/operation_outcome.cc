#include "common/fhir/operation_outcome.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/field_violations.h"

namespace signpost::fhir {
namespace {

using nlohmann::json;

struct HttpErrorCode {
  int http_status;
  const char* code;
  const char* display;
};

// https://fhir.nhs.uk/Codesystem/http-error-codes, the receiver's ("REC_") codes.
constexpr HttpErrorCode kHttpErrorCodes[] = {
    {400, "REC_BAD_REQUEST", "400: The Receiver was unable to process the request."},
    {401, "REC_UNAUTHORIZED", "401: The Receiver was unable to authenticate the request."},
    {403, "REC_FORBIDDEN", "403: The Receiver has refused the request."},
    {404, "REC_NOT_FOUND", "404: The Receiver could not find the resource."},
    {408, "REC_TIMEOUT", "408: The Receiver timed out."},
    {409, "REC_CONFLICT", "409: The Receiver found a conflict with the current state."},
    {413, "REC_BAD_REQUEST", "400: The Receiver was unable to process the request."},
    {415, "REC_BAD_REQUEST", "400: The Receiver was unable to process the request."},
    {422, "REC_UNPROCESSABLE_ENTITY", "422: The Receiver could not process the content."},
    {429, "REC_TOO_MANY_REQUESTS", "429: The Receiver has had too many requests."},
    {501, "REC_NOT_IMPLEMENTED", "501: The Receiver does not implement the request."},
    {503, "REC_SERVICE_UNAVAILABLE", "503: The Receiver is unavailable."},
};
constexpr HttpErrorCode kServerError = {500, "REC_SERVER_ERROR",
                                        "500: The Receiver has encountered an error."};

const HttpErrorCode& ErrorCodeOf(int http_status) {
  for (const auto& code : kHttpErrorCodes) {
    if (code.http_status == http_status) return code;
  }
  return kServerError;
}

json Details(int http_status) {
  const HttpErrorCode& code = ErrorCodeOf(http_status);
  return {{"coding", json::array({{{"system", std::string(kHttpErrorCodeSystem)},
                                   {"code", code.code},
                                   {"display", code.display}}})}};
}

// "required" when the reason says the element is required or missing: the R4 issue type a sender
// acts on by adding it.
std::string IssueTypeOfViolation(const FieldViolation& violation, absl::StatusCode code) {
  if (absl::StartsWith(violation.description, "required") ||
      absl::StartsWith(violation.description, "missing") ||
      absl::StrContains(violation.description, " is required")) {
    return "required";
  }
  if (violation.field.empty()) return IssueTypeOf(code);
  return code == absl::StatusCode::kFailedPrecondition ? "business-rule" : "value";
}

}  // namespace

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 422;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

std::string HttpErrorCodeOf(int http_status) { return ErrorCodeOf(http_status).code; }

std::string IssueTypeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return "invalid";
    case absl::StatusCode::kUnauthenticated:
      return "security";
    case absl::StatusCode::kPermissionDenied:
      return "forbidden";
    case absl::StatusCode::kNotFound:
      return "not-found";
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kFailedPrecondition:
      return "business-rule";
    case absl::StatusCode::kResourceExhausted:
      return "throttled";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return "transient";
    case absl::StatusCode::kUnimplemented:
      return "not-supported";
    default:
      return "exception";
  }
}

json OperationOutcomeOf(const absl::Status& status, int http_status,
                        const ExpressionOf& expression_of) {
  json issues = json::array();
  std::vector<FieldViolation> violations = ViolationsOf(status);
  for (const FieldViolation& violation : violations) {
    json issue = {{"severity", "error"},
                  {"code", IssueTypeOfViolation(violation, status.code())},
                  {"details", Details(http_status)},
                  {"diagnostics", violation.field.empty() ? violation.description
                                                          : absl::StrCat(violation.field, ": ",
                                                                         violation.description)}};
    std::string expression =
        expression_of ? expression_of(violation.field) : std::string(violation.field);
    if (!expression.empty()) issue["expression"] = json::array({expression});
    issues.push_back(std::move(issue));
  }
  if (violations.empty()) {
    std::string message(status.message());
    issues.push_back({{"severity", "error"},
                      {"code", IssueTypeOf(status.code())},
                      {"details", Details(http_status)},
                      {"diagnostics", message.empty() ? HttpErrorCodeOf(http_status) : message}});
  } else if (absl::StrContains(status.message(), " are listed)")) {
    // The status names more violations than it lists: say so rather than let the list pass for all.
    issues.push_back({{"severity", "information"},
                      {"code", "informational"},
                      {"diagnostics", std::string(status.message())}});
  }
  return {{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
}

}  // namespace signpost::fhir
