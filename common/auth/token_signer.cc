#include "common/auth/token_signer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {

TokenSigner::TokenSigner(KeyHandle key) : key_(std::move(key)), key_id_(KeyIdOf(key_.get())) {}

absl::StatusOr<std::unique_ptr<TokenSigner>> TokenSigner::FromPem(absl::string_view pem) {
  absl::StatusOr<KeyHandle> key = ParsePrivateKey(pem);
  if (!key.ok()) return key.status();
  return std::unique_ptr<TokenSigner>(new TokenSigner(*std::move(key)));
}

absl::StatusOr<std::unique_ptr<TokenSigner>> TokenSigner::FromFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  auto signer = FromPem(*pem);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<std::string> TokenSigner::Sign(const TokenClaims& claims) const {
  if (absl::Status s = CheckScope(claims.principal); !s.ok()) return s;
  if (claims.lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a token's lifetime must be positive");
  }
  const Principal& who = claims.principal;
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key_id_}};
  unsigned char nonce[12];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return absl::InternalError("no random bytes");
  int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  nlohmann::json payload = {
      {"sub", who.subject},
      {"aud", claims.audience},
      {"iat", iat},
      {"nbf", iat},
      {"exp", absl::ToUnixSeconds(claims.issued_at + claims.lifetime)},
      {"jti", absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(nonce), 12))},
      {kRoleClaim, std::string(RoleName(who.role))},
  };
  if (!claims.issuer.empty()) payload["iss"] = claims.issuer;
  if (!who.organisations.empty()) payload[kOrganisationsClaim] = who.organisations;
  if (!who.network.empty()) payload[kNetworkClaim] = who.network;

  std::string input = absl::StrCat(absl::WebSafeBase64Escape(header.dump()), ".",
                                   absl::WebSafeBase64Escape(payload.dump()));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("could not sign the token");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("could not sign the token");
  }
  signature.resize(length);
  return absl::StrCat(input, ".", absl::WebSafeBase64Escape(signature));
}

}  // namespace signpost::auth
