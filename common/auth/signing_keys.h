#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {

using KeyHandle = std::shared_ptr<EVP_PKEY>;

// A key that verifies bearer tokens (RS256), with the id tokens name it by ("kid").
struct VerificationKey {
  std::string id;
  KeyHandle key;
};

// Every PEM "PUBLIC KEY" block in `pem` (one per key still trusted: rotating the signing key is
// adding the new public key, then dropping the old one once its tokens have expired). RSA keys of
// 2048 bits or more only; INVALID_ARGUMENT otherwise or when there is none.
absl::StatusOr<std::vector<VerificationKey>> ParsePublicKeys(absl::string_view pem);

// The RSA private key that signs tokens (PEM, PKCS#8 or traditional).
absl::StatusOr<KeyHandle> ParsePrivateKey(absl::string_view pem);

// The key id of a public (or private) key: the first 16 hex digits of the SHA-256 of its DER
// SubjectPublicKeyInfo, so the signer and every verifier agree without being told.
std::string KeyIdOf(EVP_PKEY* key);

// The whole of a key file; NOT_FOUND naming the path when it cannot be read.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path);

}  // namespace signpost::auth
