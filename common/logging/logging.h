#pragma once

#include <string>

#include "absl/status/status.h"

namespace signpost {

// Sets up the default spdlog logger for a process: human-readable lines ("text") or one JSON
// object per line ("json", for log shippers), at the given level, on stderr.
absl::Status InitLogging(const std::string& service, const std::string& format,
                         const std::string& level);

}  // namespace signpost
