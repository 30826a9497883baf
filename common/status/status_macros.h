#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Propagates a non-OK absl::Status from an expression.
#define SIGNPOST_RETURN_IF_ERROR(expr)                                      \
  do {                                                                      \
    if (::absl::Status _signpost_status = (expr); !_signpost_status.ok()) { \
      return _signpost_status;                                              \
    }                                                                       \
  } while (false)

#define SIGNPOST_STATUS_CONCAT_INNER(a, b) a##b
#define SIGNPOST_STATUS_CONCAT(a, b) SIGNPOST_STATUS_CONCAT_INNER(a, b)

// Declares or assigns `lhs` from an absl::StatusOr expression, or returns its status.
#define SIGNPOST_ASSIGN_OR_RETURN(lhs, expr) \
  SIGNPOST_ASSIGN_OR_RETURN_IMPL(SIGNPOST_STATUS_CONCAT(_signpost_statusor_, __LINE__), lhs, expr)

#define SIGNPOST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).status();                    \
  }                                                    \
  lhs = std::move(tmp).value()
