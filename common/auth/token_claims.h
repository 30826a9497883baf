#pragma once

#include <string>

#include "absl/time/time.h"
#include "common/auth/principal.h"

namespace signpost::auth {

// Signpost's bearer tokens are JWTs (RFC 7519) signed RS256, with the registered claims sub, aud,
// iss, iat, nbf, exp, jti and three of Signpost's own: "role", "ods" (a referrer's ODS codes) and
// "network" (a link worker's or coordinator's network id).
inline constexpr char kRoleClaim[] = "role";
inline constexpr char kOrganisationsClaim[] = "ods";
inline constexpr char kNetworkClaim[] = "network";

// What to check of every token, the same in every service.
struct TokenPolicy {
  std::string audience = "signpost";          // aud must be (or contain) this
  std::string issuer;                         // iss must be this, when set
  absl::Duration leeway = absl::Seconds(60);  // clock differences between issuer and service
};

// What a token says: who, for whom, and for how long.
struct TokenClaims {
  Principal principal;
  std::string audience = "signpost";
  std::string issuer = "signpost-dev";
  absl::Time issued_at;
  absl::Duration lifetime = absl::Hours(8);
};

// INVALID_ARGUMENT when the role's scope is missing: a referrer names at least one ODS code, a
// link worker and a coordinator their network, every token a subject.
absl::Status CheckScope(const Principal& principal);

}  // namespace signpost::auth
