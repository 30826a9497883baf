#include "common/kafka/retry_policy.h"

#include <string>

namespace signpost::kafka {

bool IsPoison(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

Outcome OutcomeOf(const absl::Status& status) {
  if (status.ok()) return Outcome::Done();
  if (IsPoison(status.code())) {
    return Outcome::DeadLetter(status.message().empty() ? absl::StatusCodeToString(status.code())
                                                        : std::string(status.message()));
  }
  return Outcome::Retry(status.ToString(absl::StatusToStringMode::kWithNoExtraData));
}

}  // namespace signpost::kafka
