#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/signing_keys.h"
#include "common/auth/token_claims.h"

namespace signpost::auth {

// Issues bearer tokens with a private key: the development issuer behind `signpostctl token`,
// the demo and the tests. A production deployment's tokens come from its identity provider, signed
// with a key whose public half the services are given.
class TokenSigner {
 public:
  static absl::StatusOr<std::unique_ptr<TokenSigner>> FromPem(absl::string_view pem);
  static absl::StatusOr<std::unique_ptr<TokenSigner>> FromFile(const std::string& path);

  // INVALID_ARGUMENT when the claims' scope is incomplete (CheckScope) or the lifetime is not
  // positive.
  absl::StatusOr<std::string> Sign(const TokenClaims& claims) const;
  const std::string& key_id() const { return key_id_; }

 private:
  explicit TokenSigner(KeyHandle key);
  KeyHandle key_;
  std::string key_id_;
};

}  // namespace signpost::auth
