#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace signpost {

// One thing wrong with one field of a request, named by its path ("identity.nhs_number").
struct FieldViolation {
  std::string field;
  std::string description;

  bool operator==(const FieldViolation&) const = default;
};

// An INVALID_ARGUMENT status that carries every violation, so that callers (gRPC clients,
// rejected-referral events) learn all that is wrong at once. An empty list gives OK.
absl::Status InvalidArgumentWithViolations(const std::vector<FieldViolation>& violations);

// The same for a precondition (e.g. consent not given): FAILED_PRECONDITION with violations.
absl::Status FailedPreconditionWithViolations(const std::vector<FieldViolation>& violations);

// The violations a status carries; empty when it carries none.
std::vector<FieldViolation> ViolationsOf(const absl::Status& status);

}  // namespace signpost
