#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/auth/signing_keys.h"
#include "common/auth/token_claims.h"

namespace signpost::auth {

// Checks bearer tokens: RS256 signatures by one of the trusted keys (chosen by "kid"), expiry and
// not-before with the policy's leeway, audience, issuer, and a role with its scope. Holds no
// secret: only public keys. Thread-safe.
//
// A client sends the same token with every call until it expires, and checking the signature
// costs more than most calls: a token that verified is remembered (the whole token, signature
// included) with the times it is valid between, and accepted again within them without being
// checked anew. The keys and the policy never change, so the answer is the same either way.
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

  // How many verifications were answered from the tokens remembered.
  uint64_t remembered_answers() const { return remembered_answers_.load(); }

  // Tokens remembered at most; when full the memory starts again empty.
  static constexpr size_t kRememberedTokens = 4096;

 private:
  struct Verified {
    Principal principal;  // accepted until principal.accepted_until
    absl::Time valid_from;
  };
  absl::StatusOr<Verified> VerifyUnguarded(absl::string_view token, absl::Time now) const;
  TokenVerifier(std::vector<VerificationKey> keys, TokenPolicy policy)
      : keys_(std::move(keys)), policy_(std::move(policy)) {}
  std::vector<VerificationKey> keys_;
  TokenPolicy policy_;

  mutable absl::Mutex remembered_mu_;
  mutable absl::flat_hash_map<std::string, Verified> remembered_ ABSL_GUARDED_BY(remembered_mu_);
  mutable std::atomic<uint64_t> remembered_answers_{0};
};

}  // namespace signpost::auth
