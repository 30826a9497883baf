#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "common/auth/principal.h"
#include "common/auth/token_signer.h"

namespace signpost::ctl {

// Exit codes scripts can rely on.
enum ExitCode {
  kOk = 0,
  kFailed = 1,       // the service refused: bad input, not found, not allowed (message says which)
  kUsage = 2,        // the command line is wrong
  kUnavailable = 3,  // a service or the broker could not be reached
  kIncomplete = 4,   // a remote source failed part-way (directory import --url: pages failed);
                     // what was read is imported, running it again fetches the rest
};

// Where the services are: flags, else SIGNPOST_* environment variables, else the endpoints file
// that tools/run writes (.signpost/endpoints.env).
struct CtlContext {
  std::string endpoints_file = ".signpost/endpoints.env";
  std::string intake, matching, followup, monitor, kafka_bootstrap, topic_prefix;
  // TLS: the CA of the services' certificates, a client certificate for mutual TLS, or plaintext.
  std::string tls_ca, tls_cert, tls_key, insecure;
  bool json = false;  // machine-readable output where a command has a table
  // Who calls: a bearer token (--token, SIGNPOST_TOKEN), or, in development, the signing key
  // tools/run made (TOKEN_SIGNING_KEY), from which each command makes a short-lived token of the
  // role it needs.
  std::string token, token_signing_key;

  // Fills what flags left empty from the environment and the endpoints file.
  void Resolve();
  std::shared_ptr<grpc::Channel> Channel(const std::string& address, const char* what) const;
  // Puts the caller's token on a call: --token when given, else one signed with the development
  // key for `as`, else none (a service run with --no-auth).
  void Authorise(grpc::ClientContext& context, const auth::Principal& as) const;

 private:
  mutable std::shared_ptr<const auth::TokenSigner> signer_;
  mutable std::map<std::string, std::string> signed_tokens_;
};

// Prints a message as one line of JSON.
void PrintJson(const google::protobuf::Message& message);

// Reports a failed call on stderr (code, message, field violations, what to do) and returns the
// exit code for it.
int Report(const grpc::Status& status, const std::string& what);
int Report(const absl::Status& status, const std::string& what);

}  // namespace signpost::ctl
