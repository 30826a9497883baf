// signpostctl token: development bearer tokens, signed with the key tools/run made.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_split.h"
#include "common/auth/token_signer.h"
#include "tools/ctl/commands.h"

namespace signpost::ctl {
namespace {

struct TokenArgs {
  std::string role;
  std::string subject;
  std::string organisations;  // comma-separated ODS codes
  std::string network;
  int lifetime_minutes = 480;
  std::string audience = "signpost";
  std::string issuer = "signpost-dev";
};

int MakeToken(const CtlContext& ctx, const TokenArgs& args) {
  if (ctx.token_signing_key.empty()) {
    std::fprintf(stderr,
                 "signpostctl token: no signing key: give --token-signing-key, set "
                 "SIGNPOST_TOKEN_SIGNING_KEY, or start the system with tools/run (it writes "
                 "TOKEN_SIGNING_KEY to %s)\n",
                 ctx.endpoints_file.c_str());
    return kUsage;
  }
  auto role = auth::RoleFromName(args.role);
  if (!role.ok()) return Report(role.status(), "token --role");
  auth::TokenClaims claims;
  claims.principal.role = *role;
  claims.principal.subject = args.subject.empty() ? args.role : args.subject;
  claims.principal.organisations = absl::StrSplit(args.organisations, ',', absl::SkipWhitespace());
  claims.principal.network = args.network;
  claims.audience = args.audience;
  claims.issuer = args.issuer;
  claims.issued_at = absl::Now();
  claims.lifetime = absl::Minutes(args.lifetime_minutes);
  auto signer = auth::TokenSigner::FromFile(ctx.token_signing_key);
  if (!signer.ok()) return Report(signer.status(), "token");
  auto token = (*signer)->Sign(claims);
  if (!token.ok()) return Report(token.status(), "token");
  std::cout << *token << "\n";
  return kOk;
}

}  // namespace

void AddTokenCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  auto args = std::make_shared<TokenArgs>();
  CLI::App* token = app.add_subcommand(
      "token",
      "Print a development bearer token (a JWT signed with --token-signing-key) for a role: "
      "referrer --ods A81001[,B82001], link_worker --sub lw-1 --network pcn-1, coordinator "
      "--network pcn-1 (--network unrouted: the region's queue of referrals from practices no "
      "network lists), directory_admin, ops");
  token
      ->add_option("--role", args->role, "referrer, link_worker, coordinator, directory_admin, ops")
      ->required();
  token->add_option("--sub", args->subject, "Who: a link worker's id, a system's name");
  token->add_option("--ods", args->organisations, "Referrer: its ODS codes, comma-separated");
  token->add_option("--network", args->network, "Link worker and coordinator: the network id");
  token->add_option("--ttl-minutes", args->lifetime_minutes, "Lifetime")
      ->check(CLI::Range(1, 7 * 24 * 60))
      ->capture_default_str();
  token->add_option("--audience", args->audience, "aud")->capture_default_str();
  token->add_option("--issuer", args->issuer, "iss")->capture_default_str();
  token->callback([&ctx, &exit_code, args] { exit_code = MakeToken(ctx, *args); });
}

}  // namespace signpost::ctl
