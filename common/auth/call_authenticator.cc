#include "common/auth/call_authenticator.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {

CallAuthenticator::CallAuthenticator(std::unique_ptr<TokenVerifier> verifier,
                                     std::function<absl::Time()> clock)
    : verifier_(std::move(verifier)), clock_(std::move(clock)) {}

namespace {

std::string TokenOfHeader(absl::string_view value) {
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
}

// The call's "authorization" metadata, empty when it has none.
absl::string_view AuthorizationOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

std::string BearerTokenOf(const grpc::ServerContextBase& context) {
  return TokenOfHeader(AuthorizationOf(context));
}

absl::StatusOr<Principal> CallAuthenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  return AuthenticateHeader(AuthorizationOf(context));
}

absl::StatusOr<Principal> CallAuthenticator::AuthenticateHeader(
    absl::string_view authorization) const {
  if (verifier_ == nullptr) return DevelopmentCaller();
  std::string token = TokenOfHeader(authorization);
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: send \"authorization: Bearer <token>\" (signpostctl token makes one "
        "for development)");
  }
  return verifier_->Verify(token, clock_());
}

absl::StatusOr<std::unique_ptr<CallAuthenticator>> CallAuthenticatorFrom(const AuthConfig& config) {
  if (config.no_auth) return std::make_unique<CallAuthenticator>(nullptr);
  TokenPolicy policy;
  policy.audience = config.audience;
  policy.issuer = config.issuer;
  policy.leeway = absl::Seconds(config.leeway_seconds);
  auto verifier = TokenVerifier::FromFile(config.token_keys, std::move(policy));
  if (!verifier.ok()) {
    return absl::Status(verifier.status().code(),
                        absl::StrCat("--token-keys: ", verifier.status().message()));
  }
  return std::make_unique<CallAuthenticator>(*std::move(verifier));
}

void AttachBearerToken(grpc::ClientContext& context, absl::string_view token) {
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

}  // namespace signpost::auth
