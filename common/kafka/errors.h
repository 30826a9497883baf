#pragma once

#include "absl/strings/string_view.h"

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/status.h"

namespace signpost::kafka {

// True when the same request may succeed later without any change (broker down, leader moving,
// not enough in-sync replicas, timeouts). Listed in one exhaustive place.
bool IsRetryable(RdKafka::ErrorCode code);

// Maps a librdkafka error to a status: retryable errors are UNAVAILABLE; the rest get the code
// that says what to fix, with a hint for the operator. `what` names the operation.
absl::Status KafkaStatus(RdKafka::ErrorCode code, absl::string_view what);

}  // namespace signpost::kafka
