#include "common/auth/token_source.h"

#include <cstdio>
#include <cstdlib>

namespace signpost::auth {

TokenSource::TokenSource(std::shared_ptr<const TokenSigner> signer, Principal who,
                         absl::Duration lifetime)
    : signer_(std::move(signer)), who_(std::move(who)), lifetime_(lifetime) {}

std::string TokenSource::Current() {
  if (signer_ == nullptr) return "";
  absl::MutexLock lock(&mu_);
  absl::Time now = absl::Now();
  if (now >= renew_at_) {
    TokenClaims claims;
    claims.principal = who_;
    claims.issued_at = now;
    claims.lifetime = lifetime_;
    absl::StatusOr<std::string> token = signer_->Sign(claims);
    // The caller was built from the program's own settings: a scope it cannot sign is a bug.
    if (!token.ok()) {
      std::fprintf(stderr, "cannot sign a token for %s: %s\n", who_.subject.c_str(),
                   std::string(token.status().message()).c_str());
      std::abort();
    }
    token_ = *std::move(token);
    renew_at_ = now + lifetime_ / 2;
  }
  return token_;
}

}  // namespace signpost::auth
