#pragma once

#include <string>

#include "absl/time/clock.h"
#include "common/auth/principal.h"
#include "common/auth/token_signer.h"

namespace signpost::testing {

// The public keys the auth tests give services (tests/support/data/test-token-keys.pem), and the
// private key that signs the tests' tokens with it.
inline std::string TestTokenKeysPath() {
  return std::string(SIGNPOST_SOURCE_DIR) + "/tests/support/data/test-token-keys.pem";
}
inline std::string TestTokenSigningKeyPath() {
  return std::string(SIGNPOST_SOURCE_DIR) + "/tests/support/data/test-token-signing.pem";
}
// A key no service trusts.
inline std::string UntrustedTokenSigningKeyPath() {
  return std::string(SIGNPOST_SOURCE_DIR) + "/tests/support/data/untrusted-token-signing.pem";
}

// A token for `who`, valid for `lifetime` from now; a negative one gives a token that expired
// that long ago.
inline std::string TestToken(auth::Principal who, absl::Duration lifetime = absl::Hours(1),
                             std::string signing_key = TestTokenSigningKeyPath()) {
  auth::TokenClaims claims;
  claims.principal = std::move(who);
  claims.issued_at = absl::Now();
  claims.lifetime = lifetime;
  if (lifetime <= absl::ZeroDuration()) {
    claims.issued_at = absl::Now() + lifetime - absl::Hours(1);
    claims.lifetime = absl::Hours(1);
  }
  return *(*auth::TokenSigner::FromFile(signing_key))->Sign(claims);
}

inline auth::Principal Referrer(std::vector<std::string> ods) {
  return {auth::Role::kReferrer, "gp-system", std::move(ods), ""};
}
inline auth::Principal LinkWorker(std::string id, std::string network) {
  return {auth::Role::kLinkWorker, std::move(id), {}, std::move(network)};
}
inline auth::Principal Coordinator(std::string network) {
  return {auth::Role::kCoordinator, "coordinator-" + network, {}, std::move(network)};
}
inline auth::Principal Ops() { return {auth::Role::kOps, "ops", {}, ""}; }
inline auth::Principal DirectoryAdmin() {
  return {auth::Role::kDirectoryAdmin, "directory-admin", {}, ""};
}

}  // namespace signpost::testing
