#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "common/config/common_config.h"
#include "common/grpc/grpc_server.h"

namespace signpost {

// TLS with the process's certificate, requiring and verifying callers' certificates when a client
// CA is set (mutual TLS); plaintext only with --insecure.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const TlsConfig& tls);

// For calls to other services: TLS trusting `tls.ca` (the system's roots when unset), presenting
// the process's own certificate when it has one (for mutual TLS); plaintext with --insecure.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsConfig& tls);

// The TLS flags of a client program (demo, benchmarks): --tls-ca (SIGNPOST_TLS_CA), --tls-cert
// and --tls-key for mutual TLS (SIGNPOST_TLS_CLIENT_CERT, SIGNPOST_TLS_CLIENT_KEY), --insecure
// (SIGNPOST_INSECURE).
void AddClientTlsOptions(CLI::App& app, TlsConfig& tls);

// The gRPC listener a service's configuration asks for: address, port file, credentials.
absl::StatusOr<GrpcServerOptions> GrpcServerOptionsFrom(const CommonConfig& config);

}  // namespace signpost
