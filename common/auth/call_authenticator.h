#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/auth/token_verifier.h"
#include "common/config/common_config.h"

namespace signpost::auth {

// Who is calling: the bearer token of a gRPC call ("authorization: Bearer <JWT>") checked by the
// service's verifier. Each service asks it first in every RPC, then says in its own access rules
// what that caller may do.
class CallAuthenticator {
 public:
  // Without a verifier every call is a development caller (--no-auth).
  explicit CallAuthenticator(std::unique_ptr<TokenVerifier> verifier,
                             std::function<absl::Time()> clock = absl::Now);

  // UNAUTHENTICATED when the call has no bearer token or one that does not verify.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;
  // The same for an HTTP request's Authorization header ("Bearer <JWT>").
  absl::StatusOr<Principal> AuthenticateHeader(absl::string_view authorization) const;
  bool enabled() const { return verifier_ != nullptr; }

 private:
  std::unique_ptr<TokenVerifier> verifier_;
  std::function<absl::Time()> clock_;
};

// The service's authenticator from --token-keys (and audience, issuer), or one that lets every
// call through with --no-auth.
absl::StatusOr<std::unique_ptr<CallAuthenticator>> CallAuthenticatorFrom(const AuthConfig& config);

// RequireRole (what role a call needs) is in common/auth/principal.h, included above.

// The bearer token a call carries, empty when none: what a service passes on when it calls
// another on its caller's behalf.
std::string BearerTokenOf(const grpc::ServerContextBase& context);

// Sends `token` with a call (nothing when empty). Per call rather than as channel credentials so
// it works the same over TLS and over the plaintext of development.
void AttachBearerToken(grpc::ClientContext& context, absl::string_view token);

}  // namespace signpost::auth
