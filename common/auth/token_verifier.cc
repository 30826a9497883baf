#include "common/auth/token_verifier.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {
namespace {

// Far above any real token (a few hundred bytes), far below gRPC's metadata limit.
constexpr size_t kMaxTokenBytes = 8 * 1024;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

bool Decode(absl::string_view part, std::string* out) {
  return !part.empty() && absl::WebSafeBase64Unescape(part, out);
}

bool VerifySignature(EVP_PKEY* key, absl::string_view input, absl::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  ERR_clear_error();
  return ok;
}

// A NumericDate claim (seconds since the epoch), when present.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const nlohmann::json& payload,
                                                    const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::nullopt;
  if (!it->is_number()) return Unauthenticated(absl::StrCat(name, " is not a number"));
  double seconds = it->get<double>();
  // Year 1970 to about 5138: anything else is no date a token could mean.
  if (!(seconds >= 0 && seconds < 1e11)) {
    return Unauthenticated(absl::StrCat(name, " is out of range"));
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
}

// A string member, or "" when it is missing or not a string (never an exception).
std::string StringClaim(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool AudienceMatches(const nlohmann::json& aud, const std::string& wanted) {
  if (aud.is_string()) return aud.get<std::string>() == wanted;
  if (!aud.is_array()) return false;
  for (const auto& one : aud) {
    if (one.is_string() && one.get<std::string>() == wanted) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::FromPem(absl::string_view pem,
                                                                      TokenPolicy policy) {
  auto keys = ParsePublicKeys(pem);
  if (!keys.ok()) return keys.status();
  if (policy.audience.empty()) return absl::InvalidArgumentError("the token audience is empty");
  return std::unique_ptr<TokenVerifier>(new TokenVerifier(*std::move(keys), std::move(policy)));
}

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::FromFile(const std::string& path,
                                                                       TokenPolicy policy) {
  absl::StatusOr<std::string> pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  auto verifier = FromPem(*pem, std::move(policy));
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", verifier.status().message()));
  }
  return verifier;
}

absl::StatusOr<Principal> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  {
    absl::ReaderMutexLock lock(&remembered_mu_);
    auto it = remembered_.find(token);
    if (it != remembered_.end() && it->second.valid_from <= now &&
        now <= it->second.principal.accepted_until) {
      remembered_answers_.fetch_add(1, std::memory_order_relaxed);
      return it->second.principal;
    }
  }
  absl::StatusOr<Verified> verified;
  // Every member is type-checked before it is read; should a JSON access still throw, the
  // token is refused rather than the service brought down by whoever sent it.
  try {
    verified = VerifyUnguarded(token, now);
  } catch (const std::exception&) {
    return Unauthenticated("claims of the wrong type");
  }
  if (!verified.ok()) return verified.status();
  {
    absl::MutexLock lock(&remembered_mu_);
    if (remembered_.size() >= kRememberedTokens) remembered_.clear();
    remembered_.insert_or_assign(std::string(token), *verified);
  }
  return std::move(verified->principal);
}

absl::StatusOr<TokenVerifier::Verified> TokenVerifier::VerifyUnguarded(absl::string_view token,
                                                                       absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty");
  if (token.size() > kMaxTokenBytes) return Unauthenticated("longer than 8 KiB");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string header_text, payload_text, signature;
  if (parts.size() != 3 || !Decode(parts[0], &header_text) || !Decode(parts[1], &payload_text) ||
      !Decode(parts[2], &signature)) {
    return Unauthenticated("not a signed JWT (three base64url parts)");
  }
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  nlohmann::json payload = nlohmann::json::parse(payload_text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !payload.is_object()) {
    return Unauthenticated("header or claims are not a JSON object");
  }
  // The algorithm is ours to choose, never the token's: "none" or HS256 with a public key as the
  // secret are refused here.
  if (StringClaim(header, "alg") != "RS256") return Unauthenticated("alg is not RS256");

  std::string kid = StringClaim(header, "kid");
  std::string input = absl::StrCat(parts[0], ".", parts[1]);
  bool signed_by_trusted_key = false;
  bool key_found = false;
  for (const auto& key : keys_) {
    if (!kid.empty() && key.id != kid) continue;
    key_found = true;
    if (VerifySignature(key.key.get(), input, signature)) {
      signed_by_trusted_key = true;
      break;
    }
  }
  if (!key_found) return Unauthenticated("signed with a key this service does not trust");
  if (!signed_by_trusted_key) return Unauthenticated("signature does not verify");

  auto exp = TimeClaim(payload, "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Unauthenticated("no expiry (exp)");
  if (now > **exp + policy_.leeway) return Unauthenticated("expired");
  auto nbf = TimeClaim(payload, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value() && now + policy_.leeway < **nbf) return Unauthenticated("not valid yet");
  if (!payload.contains("aud") || !AudienceMatches(payload["aud"], policy_.audience)) {
    return Unauthenticated(absl::StrCat("not meant for audience ", policy_.audience));
  }
  if (!policy_.issuer.empty() && StringClaim(payload, "iss") != policy_.issuer) {
    return Unauthenticated(absl::StrCat("not issued by ", policy_.issuer));
  }

  Principal principal;
  std::string role_name = StringClaim(payload, kRoleClaim);
  if (role_name.empty()) return Unauthenticated("no role");
  auto role = RoleFromName(role_name);
  if (!role.ok()) return Unauthenticated("its role is not one Signpost knows");
  principal.role = *role;
  principal.subject = StringClaim(payload, "sub");
  if (payload.contains(kOrganisationsClaim)) {
    const auto& ods = payload[kOrganisationsClaim];
    if (!ods.is_array()) return Unauthenticated("ods is not a list");
    for (const auto& code : ods) {
      if (!code.is_string()) return Unauthenticated("ods holds something other than codes");
      // ODS codes are upper case (intake normalises referrals so).
      principal.organisations.push_back(absl::AsciiStrToUpper(code.get<std::string>()));
    }
  }
  if (payload.contains(kNetworkClaim)) {
    if (!payload[kNetworkClaim].is_string()) return Unauthenticated("network is not a string");
    principal.network = payload[kNetworkClaim].get<std::string>();
  }
  if (absl::Status s = CheckScope(principal); !s.ok()) return Unauthenticated(s.message());
  principal.accepted_until = **exp + policy_.leeway;
  return Verified{std::move(principal),
                  nbf->has_value() ? **nbf - policy_.leeway : absl::InfinitePast()};
}

}  // namespace signpost::auth
