#include "services/monitor/bounded_label.h"

namespace signpost::monitor {
namespace {

// The length of the valid UTF-8 character at the start of `s`, or 0 if none is.
size_t CharacterLength(absl::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char first = byte(0);
  size_t length = first < 0x80                     ? 1
                  : first >= 0xC2 && first <= 0xDF ? 2
                  : first >= 0xE0 && first <= 0xEF ? 3
                  : first >= 0xF0 && first <= 0xF4 ? 4
                                                   : 0;
  if (length == 0 || length > s.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  // No overlong forms, surrogates or code points past U+10FFFF.
  if (first == 0xE0 && byte(1) < 0xA0) return 0;
  if (first == 0xED && byte(1) > 0x9F) return 0;
  if (first == 0xF0 && byte(1) < 0x90) return 0;
  if (first == 0xF4 && byte(1) > 0x8F) return 0;
  return length;
}

}  // namespace

std::string BoundedLabel(absl::string_view text, size_t max_bytes) {
  std::string out;
  while (!text.empty()) {
    size_t length = CharacterLength(text);
    absl::string_view piece = length == 0 ? "?" : text.substr(0, length);
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece.data(), piece.size());
    text.remove_prefix(length == 0 ? 1 : length);
  }
  return out;
}

std::string FieldPathWithoutIndices(absl::string_view field) {
  std::string out;
  bool in_index = false;
  for (char c : field) {
    if (in_index) {
      if (c == ']') {
        out += "[]";
        in_index = false;
      }
      continue;
    }
    if (c == '[') {
      in_index = true;
      continue;
    }
    out += c;
  }
  if (in_index) out += "[]";  // an index that never closes
  return out;
}

}  // namespace signpost::monitor
