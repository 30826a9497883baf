#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace signpost::monitor {

// The monitor counts by text that comes from the records it reads (a dead letter's reason, a
// rejection's source system and fields): any length, any bytes, and often unique per record.
// These keep what it counts by, and what it shows, bounded and printable. Pure.

// `text` as valid UTF-8 of at most `max_bytes` bytes: cut at a character boundary, each byte
// that is not part of a valid character replaced by '?'.
std::string BoundedLabel(absl::string_view text, size_t max_bytes);

// A field path without its indices or map keys ("needs[3].category" is "needs[].category"),
// the same for every record that breaks the same rule.
std::string FieldPathWithoutIndices(absl::string_view field);

}  // namespace signpost::monitor
