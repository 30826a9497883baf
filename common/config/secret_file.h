#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace signpost {

// The secret held in the file at `path` (a password mounted from a Secret, say), without the
// line break an editor or `echo` leaves at its end. INVALID_ARGUMENT naming `flag` when the file
// cannot be read or is empty; the secret itself never appears in a message.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view flag);

}  // namespace signpost
