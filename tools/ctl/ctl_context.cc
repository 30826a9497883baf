#include "tools/ctl/ctl_context.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/call_authenticator.h"
#include "common/auth/token_signer.h"
#include "common/grpc/tls_credentials.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"

namespace signpost::ctl {

void CtlContext::Resolve() {
  std::map<std::string, std::string> file;
  std::ifstream in(endpoints_file);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) file[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto fill = [&](std::string& value, const char* env, const char* key) {
    if (!value.empty()) return;
    if (const char* v = std::getenv(env); v != nullptr && *v) {
      value = v;
    } else if (auto it = file.find(key); it != file.end()) {
      value = it->second;
    }
  };
  fill(intake, "SIGNPOST_INTAKE_ADDR", "INTAKE_ADDR");
  fill(matching, "SIGNPOST_MATCHING_ADDR", "MATCHING_ADDR");
  fill(followup, "SIGNPOST_FOLLOWUP_ADDR", "FOLLOWUP_ADDR");
  fill(monitor, "SIGNPOST_MONITOR_ADDR", "MONITOR_ADDR");
  fill(kafka_bootstrap, "SIGNPOST_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP");
  fill(topic_prefix, "SIGNPOST_TOPIC_PREFIX", "TOPIC_PREFIX");
  fill(tls_ca, "SIGNPOST_TLS_CA", "TLS_CA");
  fill(tls_cert, "SIGNPOST_TLS_CLIENT_CERT", "TLS_CLIENT_CERT");
  fill(tls_key, "SIGNPOST_TLS_CLIENT_KEY", "TLS_CLIENT_KEY");
  fill(insecure, "SIGNPOST_INSECURE", "INSECURE");
  fill(token, "SIGNPOST_TOKEN", "TOKEN");
  fill(token_signing_key, "SIGNPOST_TOKEN_SIGNING_KEY", "TOKEN_SIGNING_KEY");
}

void CtlContext::Authorise(grpc::ClientContext& context, const auth::Principal& as) const {
  if (!token.empty()) {
    auth::AttachBearerToken(context, token);
    return;
  }
  if (token_signing_key.empty()) return;
  // One signature per caller for the whole command (a submit of many referrals signs once).
  std::string key = absl::StrCat(auth::RoleName(as.role), "|", as.subject, "|",
                                 absl::StrJoin(as.organisations, ","), "|", as.network);
  auto& made = signed_tokens_[key];
  if (made.empty()) {
    if (signer_ == nullptr) {
      auto loaded = auth::TokenSigner::FromFile(token_signing_key);
      if (!loaded.ok()) {
        Report(loaded.status(), "--token-signing-key");
        std::exit(kUsage);
      }
      signer_ = *std::move(loaded);
    }
    auth::TokenClaims claims;
    claims.principal = as;
    claims.issued_at = absl::Now();
    claims.lifetime = absl::Minutes(15);
    auto signed_token = signer_->Sign(claims);
    if (!signed_token.ok()) {
      Report(signed_token.status(), "signing a development token");
      std::exit(kUsage);
    }
    made = *std::move(signed_token);
  }
  auth::AttachBearerToken(context, made);
}

std::shared_ptr<grpc::Channel> CtlContext::Channel(const std::string& address,
                                                   const char* what) const {
  if (address.empty()) {
    std::fprintf(stderr,
                 "signpostctl: no address for %s: give --%s, set SIGNPOST_%s_ADDR, or start the "
                 "system with tools/run (it writes %s)\n",
                 what, what, std::string(absl::AsciiStrToUpper(what)).c_str(),
                 endpoints_file.c_str());
    std::exit(kUsage);
  }
  // As the services read SIGNPOST_INSECURE (CLI11's flag values).
  std::string plain = absl::AsciiStrToLower(insecure);
  TlsConfig tls{.cert = tls_cert,
                .key = tls_key,
                .ca = tls_ca,
                .insecure = plain == "true" || plain == "1" || plain == "yes" || plain == "on"};
  auto credentials = ChannelCredentialsFor(tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "signpostctl: %s\n", std::string(credentials.status().message()).c_str());
    std::exit(kUsage);
  }
  return grpc::CreateChannel(address, *credentials);
}

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  std::cout << out << "\n" << std::flush;
}

int Report(const absl::Status& status, const std::string& what) {
  if (status.ok()) return kOk;
  std::fprintf(stderr, "signpostctl: %s: %s: %s\n", what.c_str(),
               absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  for (const auto& v : ViolationsOf(status)) {
    std::fprintf(stderr, "  %s: %s\n", v.field.c_str(), v.description.c_str());
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      std::fprintf(stderr, "  is it running? tools/run starts everything; check the address\n");
      return kUnavailable;
    default:
      return kFailed;
  }
}

int Report(const grpc::Status& status, const std::string& what) {
  // FromGrpcStatus keeps google.rpc.BadRequest's field violations in the message.
  return Report(FromGrpcStatus(status), what);
}

}  // namespace signpost::ctl
