#include "common/crypto/data_keyring.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace signpost::crypto {
namespace {

constexpr size_t kKeyBytes = 32;

bool ValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return "";
  }
  return out;
}

}  // namespace

absl::StatusOr<DataKeyring> DataKeyring::Parse(absl::string_view text) {
  std::vector<std::string> problems;
  std::vector<DataKey> keys;
  std::string hash_key;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    auto decode = [&](absl::string_view b64, std::string& out) {
      if (!absl::Base64Unescape(b64, &out) || out.size() != kKeyBytes) {
        problems.push_back(
            absl::StrCat("line ", number, ": the key is not ", kKeyBytes, " bytes of base64"));
        return false;
      }
      return true;
    };
    if (words[0] == "data-key" && words.size() == 3) {
      DataKey key{std::string(words[1]), ""};
      if (!ValidKeyId(key.id)) {
        problems.push_back(
            absl::StrCat("line ", number, ": a key id is 1-64 letters, digits, '-', '_' or '.'"));
        continue;
      }
      bool repeated = false;
      for (const auto& k : keys) repeated = repeated || k.id == key.id;
      if (repeated) {
        problems.push_back(absl::StrCat("line ", number, ": key id '", key.id, "' given twice"));
        continue;
      }
      if (decode(words[2], key.bytes)) keys.push_back(std::move(key));
    } else if (words[0] == "person-hash-key" && words.size() == 2) {
      if (!hash_key.empty()) {
        problems.push_back(absl::StrCat("line ", number, ": person-hash-key given twice"));
        continue;
      }
      decode(words[1], hash_key);
    } else {
      problems.push_back(absl::StrCat(
          "line ", number, ": expected 'data-key ID BASE64' or 'person-hash-key BASE64'"));
    }
  }
  if (keys.empty()) problems.push_back("no data-key line");
  if (hash_key.empty()) problems.push_back("no person-hash-key line");
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("data keys: ", absl::StrJoin(problems, "; ")));
  }
  return DataKeyring(std::move(keys), std::move(hash_key));
}

absl::StatusOr<DataKeyring> DataKeyring::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("data keys: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto ring = Parse(text.str());
  if (!ring.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", ring.status().message()));
  }
  return ring;
}

const DataKey* DataKeyring::Find(absl::string_view id) const {
  for (const DataKey& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

std::vector<std::string> DataKeyring::key_ids() const {
  std::vector<std::string> out;
  for (const DataKey& key : keys_) out.push_back(key.id);
  return out;
}

std::string DataKeyring::Describe() const {
  std::string out = absl::StrCat(keys_.front().id, " (seals)");
  for (size_t i = 1; i < keys_.size(); ++i) absl::StrAppend(&out, ", ", keys_[i].id);
  return out;
}

absl::StatusOr<DataKeyring> LoadServiceDataKeys(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "--data-keys (SIGNPOST_DATA_KEYS) is required: the keyring that seals personal details "
        "on the bus (signpostctl keys new writes one)");
  }
  auto ring = DataKeyring::Load(path);
  if (ring.ok()) spdlog::info("data keys: {}", ring->Describe());
  return ring;
}

absl::StatusOr<std::string> RotateKeyringText(absl::string_view keyring_text,
                                              absl::string_view key_id) {
  auto ring = DataKeyring::Parse(keyring_text);
  if (!ring.ok()) return ring.status();
  if (!ValidKeyId(key_id)) {
    return absl::InvalidArgumentError("a key id is 1-64 letters, digits, '-', '_' or '.'");
  }
  if (ring->Find(key_id) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("the keyring already has a key '", key_id, "'"));
  }
  std::string data = RandomBytes(kKeyBytes);
  if (data.empty()) return absl::InternalError("the system's random source gave no bytes");
  // The new line goes before the first data-key line: comments at the top stay at the top.
  std::string line = absl::StrCat("data-key ", key_id, " ", absl::Base64Escape(data), "\n");
  std::string out(keyring_text);
  size_t at = 0;
  for (size_t pos = 0; pos < out.size();) {
    size_t end = out.find('\n', pos);
    absl::string_view current(out.data() + pos,
                              (end == std::string::npos ? out.size() : end) - pos);
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(current), "data-key ")) {
      at = pos;
      break;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  out.insert(at, line);
  return out;
}

absl::StatusOr<std::string> NewKeyringText(absl::string_view key_id) {
  if (!ValidKeyId(key_id)) {
    return absl::InvalidArgumentError("a key id is 1-64 letters, digits, '-', '_' or '.'");
  }
  std::string data = RandomBytes(kKeyBytes);
  std::string hash = RandomBytes(kKeyBytes);
  if (data.empty() || hash.empty()) {
    return absl::InternalError("the system's random source gave no bytes");
  }
  return absl::StrCat(
      "# Signpost data keys: they open every person's details on the bus. Keep this file secret.\n"
      "# The first data-key seals; all open. To rotate, add a new first line.\n",
      "data-key ", key_id, " ", absl::Base64Escape(data), "\n", "person-hash-key ",
      absl::Base64Escape(hash), "\n");
}

}  // namespace signpost::crypto
