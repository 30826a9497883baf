#pragma once

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/token_signer.h"

namespace signpost::auth {

// A long-running client's token (the demo's GP systems and link workers, the benchmarks): signed
// for one caller and signed again once half its lifetime has gone, so calls never carry an
// expired one. Without a signer it gives "" (services run with --no-auth). Thread-safe.
class TokenSource {
 public:
  TokenSource(std::shared_ptr<const TokenSigner> signer, Principal who,
              absl::Duration lifetime = absl::Hours(1));

  std::string Current();

 private:
  std::shared_ptr<const TokenSigner> signer_;
  const Principal who_;
  const absl::Duration lifetime_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time renew_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace signpost::auth
