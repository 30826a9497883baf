#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/auth/signing_keys.h"
#include "common/auth/token_claims.h"

namespace signpost::auth {

// Checks bearer tokens: RS256 signatures by one of the trusted keys (chosen by "kid"), expiry and
// not-before with the policy's leeway, audience, issuer, and a role with its scope. Holds no
// secret: only public keys. Thread-safe.
class TokenVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> FromPem(absl::string_view pem,
                                                                TokenPolicy policy);
  // A file of one or more PEM public keys.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> FromFile(const std::string& path,
                                                                 TokenPolicy policy);

  // The caller the token names; UNAUTHENTICATED saying what is wrong with the token (never what it
  // contains) otherwise.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now) const;

 private:
  absl::StatusOr<Principal> VerifyUnguarded(absl::string_view token, absl::Time now) const;
  TokenVerifier(std::vector<VerificationKey> keys, TokenPolicy policy)
      : keys_(std::move(keys)), policy_(std::move(policy)) {}
  std::vector<VerificationKey> keys_;
  TokenPolicy policy_;
};

}  // namespace signpost::auth
