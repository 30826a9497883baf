#pragma once

#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace signpost::crypto {

// A 256-bit AES key and the id it is known by on the bus.
struct DataKey {
  std::string id;
  std::string bytes;  // 32 bytes
};

// The keys that seal and open personal details on the bus, read from a file only the services
// that contact people are given:
//
//   # lines: data-key ID BASE64 (the first is current: it seals; all of them open)
//   data-key 2026-12 q2Vx...=
//   data-key 2026-06 Zk9p...=
//   person-hash-key 7Hw...=
//
// Rotating adds a new first line and keeps the old ones until no event sealed with them is left.
// The person-hash key never rotates: it is what makes the same person give the same reference.
class DataKeyring {
 public:
  // Every problem in the text at once, naming the line; never a key's value.
  static absl::StatusOr<DataKeyring> Parse(absl::string_view text);
  static absl::StatusOr<DataKeyring> Load(const std::string& path);

  const DataKey& current() const { return keys_.front(); }
  // nullptr when the keyring has no key of that id.
  const DataKey* Find(absl::string_view id) const;
  const std::string& person_hash_key() const { return person_hash_key_; }
  std::vector<std::string> key_ids() const;
  // "2026-12 (seals), 2026-06": for the start-up log; no key's value.
  std::string Describe() const;

 private:
  DataKeyring(std::vector<DataKey> keys, std::string person_hash_key)
      : keys_(std::move(keys)), person_hash_key_(std::move(person_hash_key)) {}

  std::vector<DataKey> keys_;
  std::string person_hash_key_;
};

// The keyring named by a service's --data-keys (SIGNPOST_DATA_KEYS), with its ids logged.
absl::StatusOr<DataKeyring> LoadServiceDataKeys(const std::string& path);

// `keyring_text` with a fresh data key `key_id` put first, so it seals from now on; the other
// lines (older keys, the person-hash key, comments) are kept as they are. INVALID_ARGUMENT for a
// keyring that does not parse or already has that id.
absl::StatusOr<std::string> RotateKeyringText(absl::string_view keyring_text,
                                              absl::string_view key_id);

// A new keyring's text with one fresh data key (id `key_id`) and a person-hash key, from the
// system's random source: what `signpost-keys` and tools/run write.
absl::StatusOr<std::string> NewKeyringText(absl::string_view key_id);

}  // namespace signpost::crypto
