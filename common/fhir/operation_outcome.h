#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace signpost::fhir {

// FHIR R4 answers to a failed request over HTTP: the HTTP status, and an OperationOutcome that
// names each offending element, with the reasons gRPC gives for the same status.

// The NHS code system of HTTP error codes (note the lower-case "s" of "Codesystem", as published).
inline constexpr absl::string_view kHttpErrorCodeSystem =
    "https://fhir.nhs.uk/Codesystem/http-error-codes";

// The HTTP status for `status`, by its code: INVALID_ARGUMENT 400 (a request that cannot be read;
// a caller that read it and found it invalid passes 422 itself), UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS and ABORTED 409, FAILED_PRECONDITION 422,
// RESOURCE_EXHAUSTED 429, UNAVAILABLE and DEADLINE_EXCEEDED 503, UNIMPLEMENTED 501, OK 200, any
// other 500.
int HttpStatusOf(const absl::Status& status);

// The NHS HTTP error code for an HTTP status (REC_BAD_REQUEST for 400, REC_UNPROCESSABLE_ENTITY for
// 422, ...; REC_SERVER_ERROR for one it has none for).
std::string HttpErrorCodeOf(int http_status);

// The R4 issue-type code for a status without field violations ("invalid", "security",
// "forbidden", "not-found", "conflict", "business-rule", "throttled", "transient", "exception").
std::string IssueTypeOf(absl::StatusCode code);

// The FHIRPath of the element a field violation names (the violation's field as given, e.g.
// "identity.nhs_number" or "ServiceRequest.reasonCode[0]"); empty when there is none to name.
using ExpressionOf = std::function<std::string(absl::string_view field)>;

// An OperationOutcome for a failed `status` answered with `http_status`: one issue per field
// violation the status carries (severity error; code "required" when the reason says something is
// required or missing, else "value", or "invalid" for the request as a whole; diagnostics
// "<field>: <reason>" as gRPC gives it; expression from `expression_of`, or the field itself when
// none is given), or else one issue with the status's message. When the status's message counts
// violations that are not listed, one more issue (severity information) says so. Every error issue
// carries details.coding of the NHS HTTP error code for `http_status`.
nlohmann::json OperationOutcomeOf(const absl::Status& status, int http_status,
                                  const ExpressionOf& expression_of = nullptr);
inline nlohmann::json OperationOutcomeOf(const absl::Status& status) {
  return OperationOutcomeOf(status, HttpStatusOf(status));
}

}  // namespace signpost::fhir
