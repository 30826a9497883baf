#include "services/matching/oruk_ids.h"

#include <openssl/sha.h>

#include <array>
#include <cstdint>

namespace signpost::matching {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsDashAt(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

std::array<uint8_t, 16> NamespaceBytes() {
  std::array<uint8_t, 16> bytes{};
  std::string_view text = kOrukNamespace;
  size_t out = 0;
  for (size_t i = 0; i < text.size(); i += IsDashAt(i) ? 1 : 2) {
    if (IsDashAt(i)) continue;
    bytes[out++] = static_cast<uint8_t>(HexValue(text[i]) * 16 + HexValue(text[i + 1]));
  }
  return bytes;
}

}  // namespace

std::string NameBasedUuid(std::string_view name) {
  static const std::array<uint8_t, 16> kNamespace = NamespaceBytes();
  std::string input(reinterpret_cast<const char*>(kNamespace.data()), kNamespace.size());
  input.append(name);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

bool IsLowerCaseUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsDashAt(i) ? text[i] != '-' : HexValue(text[i]) < 0) return false;
  }
  return true;
}

std::string OrukId(std::string_view kind, std::string_view signpost_id) {
  if (IsLowerCaseUuid(signpost_id)) return std::string(signpost_id);
  return NameBasedUuid(std::string(kind) + ":" + std::string(signpost_id));
}

}  // namespace signpost::matching
