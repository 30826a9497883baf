#pragma once

#include <string>

#include "absl/status/status.h"

namespace signpost {

// Writes a bound port to a file atomically (write then rename), so that a reader polling for
// the file never sees it half-written.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace signpost
