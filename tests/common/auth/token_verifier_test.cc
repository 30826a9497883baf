#include "common/auth/token_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/token_signer.h"
#include "tests/support/test_tokens.h"

namespace signpost::auth {
namespace {

using ::signpost::testing::LinkWorker;
using ::signpost::testing::Referrer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

std::string KeysPem() { return *ReadKeyFile(signpost::testing::TestTokenKeysPath()); }

std::unique_ptr<TokenVerifier> Verifier(TokenPolicy policy = {}) {
  return *TokenVerifier::FromPem(KeysPem(), std::move(policy));
}

std::string Sign(Principal who, absl::Time at = kNow, absl::Duration lifetime = absl::Hours(1),
                 std::string audience = "signpost", std::string issuer = "signpost-dev",
                 const std::string& key = signpost::testing::TestTokenSigningKeyPath()) {
  TokenClaims claims;
  claims.principal = std::move(who);
  claims.issued_at = at;
  claims.lifetime = lifetime;
  claims.audience = std::move(audience);
  claims.issuer = std::move(issuer);
  return *(*TokenSigner::FromFile(key))->Sign(claims);
}

// A token with the given header and claims and a signature of the test key over them, or
// `signature` when given.
std::string Forge(const std::string& header, const std::string& payload,
                  const std::string& signature = "c2ln") {
  return absl::StrCat(absl::WebSafeBase64Escape(header), ".", absl::WebSafeBase64Escape(payload),
                      ".", signature);
}

void ExpectRefused(const absl::StatusOr<Principal>& result, const std::string& why) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(why));
}

TEST(TokenVerifierTest, ATokenItSignedNamesItsCallerRoleAndScope) {
  auto referrer = Verifier()->Verify(Sign(Referrer({"A81001", "A81002"})), kNow);
  ASSERT_TRUE(referrer.ok()) << referrer.status();
  EXPECT_EQ(referrer->role, Role::kReferrer);
  EXPECT_EQ(referrer->subject, "gp-system");
  EXPECT_THAT(referrer->organisations, ElementsAre("A81001", "A81002"));
  EXPECT_TRUE(referrer->Refers("A81002"));
  EXPECT_FALSE(referrer->Refers("B82001"));

  auto worker = Verifier()->Verify(Sign(LinkWorker("lw-1", "pcn-north")), kNow);
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_EQ(worker->role, Role::kLinkWorker);
  EXPECT_EQ(worker->subject, "lw-1");
  EXPECT_EQ(worker->network, "pcn-north");
}

TEST(TokenVerifierTest, ExpiryAndNotBeforeAllowTheLeewayAndNoMore) {
  std::string token = Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1));
  EXPECT_TRUE(Verifier()->Verify(token, kNow + absl::Hours(1) + absl::Seconds(59)).ok());
  ExpectRefused(Verifier()->Verify(token, kNow + absl::Hours(1) + absl::Seconds(61)), "expired");
  EXPECT_TRUE(Verifier()->Verify(token, kNow - absl::Seconds(59)).ok());
  ExpectRefused(Verifier()->Verify(token, kNow - absl::Seconds(61)), "not valid yet");
}

TEST(TokenVerifierTest, ACallerIsAcceptedUntilExpiryPlusTheLeeway) {
  auto worker = Verifier()->Verify(Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1)), kNow);
  ASSERT_TRUE(worker.ok());
  EXPECT_EQ(worker->accepted_until, kNow + absl::Hours(1) + absl::Seconds(60));
  EXPECT_EQ(Principal{}.accepted_until, absl::InfiniteFuture());
}

TEST(TokenVerifierTest, AVerifiedTokenIsRememberedOnlyWithinTheTimesItIsValid) {
  auto verifier = Verifier();
  std::string token = Sign(LinkWorker("lw-1", "pcn-north"), kNow, absl::Hours(1));
  ASSERT_TRUE(verifier->Verify(token, kNow).ok());
  EXPECT_EQ(verifier->remembered_answers(), 0u);
  auto again = verifier->Verify(token, kNow + absl::Minutes(10));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(verifier->remembered_answers(), 1u);
  EXPECT_EQ(again->role, Role::kLinkWorker);
  EXPECT_EQ(again->subject, "lw-1");
  EXPECT_EQ(again->network, "pcn-north");
  EXPECT_EQ(again->accepted_until, kNow + absl::Hours(1) + absl::Seconds(60));
  // Remembered or not, the same answers at the edges.
  EXPECT_TRUE(verifier->Verify(token, kNow + absl::Hours(1) + absl::Seconds(59)).ok());
  ExpectRefused(verifier->Verify(token, kNow + absl::Hours(1) + absl::Seconds(61)), "expired");
  EXPECT_TRUE(verifier->Verify(token, kNow - absl::Seconds(59)).ok());
  ExpectRefused(verifier->Verify(token, kNow - absl::Seconds(61)), "not valid yet");
  EXPECT_EQ(verifier->remembered_answers(), 3u);
}

TEST(TokenVerifierTest, TheSameClaimsWithAnotherSignatureAreCheckedAnew) {
  auto verifier = Verifier();
  std::string token = Sign(Referrer({"A81001"}));
  ASSERT_TRUE(verifier->Verify(token, kNow).ok());
  // A character in the middle of the signature: the last one's low bits are not part of it.
  std::string altered = token;
  char& c = altered[altered.size() - 20];
  c = c == 'A' ? 'B' : 'A';
  ExpectRefused(verifier->Verify(altered, kNow), "signature does not verify");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  ExpectRefused(verifier->Verify(absl::StrCat(parts[0], ".", parts[1], "."), kNow),
                "three base64url parts");
  EXPECT_EQ(verifier->remembered_answers(), 0u);
}

TEST(TokenVerifierTest, RemembersABoundedNumberOfTokens) {
  auto verifier = Verifier();
  std::vector<std::string> tokens;
  for (size_t i = 0; i <= TokenVerifier::kRememberedTokens; ++i) {
    tokens.push_back(Sign(LinkWorker(absl::StrCat("lw-", i), "n")));
  }
  for (const auto& token : tokens) ASSERT_TRUE(verifier->Verify(token, kNow).ok());
  // The last one found the memory full: it starts again with that one alone.
  ASSERT_TRUE(verifier->Verify(tokens.front(), kNow).ok());
  EXPECT_EQ(verifier->remembered_answers(), 0u);
  ASSERT_TRUE(verifier->Verify(tokens.back(), kNow).ok());
  EXPECT_EQ(verifier->remembered_answers(), 1u);
}

TEST(TokenVerifierTest, AudienceAndIssuerMustBeTheConfiguredOnes) {
  ExpectRefused(
      Verifier()->Verify(Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1), "other"), kNow),
      "not meant for audience signpost");
  TokenPolicy policy;
  policy.issuer = "https://idp.example.nhs.uk";
  ExpectRefused(Verifier(policy)->Verify(Sign(LinkWorker("lw-1", "n")), kNow),
                "not issued by https://idp.example.nhs.uk");
  EXPECT_TRUE(Verifier(policy)
                  ->Verify(Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1), "signpost",
                                "https://idp.example.nhs.uk"),
                           kNow)
                  .ok());
}

TEST(TokenVerifierTest, AKeyItDoesNotTrustOrAChangedClaimIsRefused) {
  ExpectRefused(
      Verifier()->Verify(Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1), "signpost",
                              "signpost-dev", signpost::testing::UntrustedTokenSigningKeyPath()),
                         kNow),
      "a key this service does not trust");
  // The same signature over claims that make a link worker someone else.
  std::string token = Sign(LinkWorker("lw-1", "n"));
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string claims;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &claims));
  claims.replace(claims.find("lw-1"), 4, "lw-2");
  ExpectRefused(
      Verifier()->Verify(
          absl::StrCat(parts[0], ".", absl::WebSafeBase64Escape(claims), ".", parts[2]), kNow),
      "signature does not verify");
}

TEST(TokenVerifierTest, TheAlgorithmIsNeverTheTokensChoice) {
  std::string claims = R"({"sub":"x","aud":"signpost","exp":1900000000,"role":"ops"})";
  ExpectRefused(Verifier()->Verify(Forge(R"({"alg":"none"})", claims, ""), kNow),
                "not a signed JWT");
  ExpectRefused(Verifier()->Verify(Forge(R"({"alg":"none"})", claims), kNow), "alg is not RS256");
  ExpectRefused(Verifier()->Verify(Forge(R"({"alg":"HS256"})", claims), kNow), "alg is not RS256");
}

TEST(TokenVerifierTest, MalformedTokensAreRefusedWithoutCrashing) {
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
        std::string("..."), std::string("!!.??.**"), Forge("[1]", "{}"), Forge("{}", "not json"),
        std::string(9000, 'a'), Forge(R"({"alg":1})", "{}"), Forge(R"({"alg":["RS256"]})", "{}"),
        Forge(R"({"alg":"RS256","kid":7})", "{}"), Forge(R"({"alg":null})", "{}"),
        Forge(std::string(3000, '[') + std::string(3000, ']'), "{}")}) {
    auto result = Verifier()->Verify(bad, kNow);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << bad.substr(0, 40);
  }
}

// Claims of the wrong type or range, signed by the trusted key: refused, never thrown.
TEST(TokenVerifierTest, SignedClaimsOfTheWrongTypeAreRefused) {
  auto signer = *TokenSigner::FromFile(signpost::testing::TestTokenSigningKeyPath());
  auto sign_raw = [&](const std::string& payload) {
    std::string header = absl::StrCat(R"({"alg":"RS256","kid":")", signer->key_id(), R"("})");
    std::string input =
        absl::StrCat(absl::WebSafeBase64Escape(header), ".", absl::WebSafeBase64Escape(payload));
    // Signed with the test key by the openssl command, not by the code under test.
    std::string path = ::testing::TempDir() + "/input";
    FILE* f = fopen(path.c_str(), "w");
    fwrite(input.data(), 1, input.size(), f);
    fclose(f);
    std::string command = absl::StrCat("openssl dgst -sha256 -sign ",
                                       signpost::testing::TestTokenSigningKeyPath(), " ", path);
    FILE* pipe = popen(command.c_str(), "r");
    std::string signature;
    char buffer[1024];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) signature.append(buffer, n);
    pclose(pipe);
    return absl::StrCat(input, ".", absl::WebSafeBase64Escape(signature));
  };
  // The way of signing is right: a well-formed payload signed so verifies.
  ASSERT_TRUE(Verifier()
                  ->Verify(sign_raw(R"({"sub":"lw-1","aud":["other","signpost"],"exp":1900000000,)"
                                    R"("role":"link_worker","network":"n"})"),
                           kNow)
                  .ok());
  for (const std::string& payload : {
           std::string(R"({"sub":"x","aud":"signpost","role":"ops"})"),               // no exp
           std::string(R"({"sub":"x","aud":"signpost","exp":"soon","role":"ops"})"),  // text
           std::string(R"({"sub":"x","aud":"signpost","exp":1e300,"role":"ops"})"),   // range
           std::string(R"({"sub":"x","aud":"signpost","exp":-1e300,"role":"ops"})"),
           std::string(R"({"sub":"x","aud":7,"exp":1900000000,"role":"ops"})"),
           std::string(R"({"sub":"x","aud":"signpost","exp":1900000000,"role":7})"),
           std::string(R"({"sub":"x","aud":"signpost","exp":1900000000,"role":"ops","iss":7})"),
           std::string(R"({"sub":7,"aud":"signpost","exp":1900000000,"role":"ops"})"),
           std::string(R"({"sub":"x","aud":"signpost","exp":1900000000,"role":"referrer",)"
                       R"("ods":"A81001"})"),
           std::string(R"({"sub":"x","aud":"signpost","exp":1900000000,"role":"referrer",)"
                       R"("ods":[1]})"),
           std::string(R"({"sub":"x","aud":"signpost","exp":1900000000,"role":"link_worker",)"
                       R"("network":{}})"),
       }) {
    TokenPolicy policy;
    policy.issuer = payload.find("iss") != std::string::npos ? "x" : "";
    auto result = Verifier(policy)->Verify(sign_raw(payload), kNow);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << payload;
  }
}

TEST(TokenVerifierTest, OdsCodesAreComparedAsIntakeNormalisesThem) {
  auto gp = Verifier()->Verify(Sign(Referrer({"a81001"})), kNow);
  ASSERT_TRUE(gp.ok());
  EXPECT_TRUE(gp->Refers("A81001"));
  EXPECT_TRUE(gp->Refers("a81001"));
}

TEST(TokenVerifierTest, EveryRoleCarriesItsScope) {
  // Signed by hand: the signer itself refuses to make these.
  TokenClaims claims;
  claims.principal = Referrer({});
  claims.issued_at = kNow;
  auto signer = *TokenSigner::FromFile(signpost::testing::TestTokenSigningKeyPath());
  EXPECT_EQ(signer->Sign(claims).status().code(), absl::StatusCode::kInvalidArgument);
  claims.principal = LinkWorker("lw-1", "");
  EXPECT_THAT(std::string(signer->Sign(claims).status().message()), HasSubstr("network"));
  claims.principal = Principal{};
  EXPECT_EQ(signer->Sign(claims).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TokenVerifierTest, SeveralTrustedKeysLetTheSigningKeyRotate) {
  std::string both = KeysPem();
  auto untrusted = *TokenSigner::FromFile(signpost::testing::UntrustedTokenSigningKeyPath());
  // The public half of the second key, as the operator would append it.
  FILE* pipe = popen(absl::StrCat("openssl pkey -pubout -in ",
                                  signpost::testing::UntrustedTokenSigningKeyPath(), " 2>/dev/null")
                         .c_str(),
                     "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  size_t n = fread(buffer, 1, sizeof buffer, pipe);
  pclose(pipe);
  both.append(buffer, n);
  auto verifier = *TokenVerifier::FromPem(both, {});
  EXPECT_TRUE(verifier->Verify(Sign(LinkWorker("lw-1", "n")), kNow).ok());
  EXPECT_TRUE(verifier
                  ->Verify(Sign(LinkWorker("lw-1", "n"), kNow, absl::Hours(1), "signpost",
                                "signpost-dev", signpost::testing::UntrustedTokenSigningKeyPath()),
                           kNow)
                  .ok());
  EXPECT_NE(untrusted->key_id(),
            (*TokenSigner::FromFile(signpost::testing::TestTokenSigningKeyPath()))->key_id());
}

TEST(TokenVerifierTest, KeyFilesThatAreNotKeysAreRefusedAtStartUp) {
  EXPECT_EQ(TokenVerifier::FromPem("", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      TokenVerifier::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", {})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  auto missing = TokenVerifier::FromFile("/nonexistent/keys.pem", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/keys.pem"));
  EXPECT_EQ(TokenSigner::FromPem("not a key").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RoleTest, NamesRoundTripAndDevelopmentIsNoTokenRole) {
  for (Role role : {Role::kReferrer, Role::kLinkWorker, Role::kCoordinator, Role::kDirectoryAdmin,
                    Role::kOps}) {
    EXPECT_EQ(*RoleFromName(RoleName(role)), role);
  }
  EXPECT_FALSE(RoleFromName("development").ok());
  EXPECT_FALSE(RoleFromName("admin").ok());
}

}  // namespace
}  // namespace signpost::auth
