#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/message.h"

namespace signpost::testing {

// Everything a topic holds right now, read as a plain consumer (no group): every partition from
// its beginning up to its high watermark.
absl::StatusOr<std::vector<kafka::ConsumedMessage>> ReadTopic(const std::string& bootstrap,
                                                              const std::string& topic);

}  // namespace signpost::testing
