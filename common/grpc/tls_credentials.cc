#include "common/grpc/tls_credentials.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace signpost {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " holds no PEM block"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsConfig& tls) {
  if (tls.insecure) return grpc::InsecureServerCredentials();
  auto cert = ReadPem("--tls-cert", tls.cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("--tls-key", tls.key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca.empty()) {
    auto ca = ReadPem("--tls-client-ca", tls.client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsConfig& tls) {
  if (tls.insecure) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!tls.ca.empty()) {
    auto ca = ReadPem("--tls-ca", tls.ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (!tls.cert.empty() && !tls.key.empty()) {
    auto cert = ReadPem("--tls-cert", tls.cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("--tls-key", tls.key);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

void AddClientTlsOptions(CLI::App& app, TlsConfig& tls) {
  app.add_option("--tls-ca", tls.ca, "CA of the services' certificates")
      ->envname("SIGNPOST_TLS_CA");
  app.add_option("--tls-cert", tls.cert, "Client certificate, for mutual TLS")
      ->envname("SIGNPOST_TLS_CLIENT_CERT");
  app.add_option("--tls-key", tls.key, "Its private key")->envname("SIGNPOST_TLS_CLIENT_KEY");
  app.add_flag("--insecure", tls.insecure, "Plaintext calls (development only)")
      ->envname("SIGNPOST_INSECURE");
}

absl::StatusOr<GrpcServerOptions> GrpcServerOptionsFrom(const CommonConfig& config) {
  GrpcServerOptions options;
  options.listen = config.listen;
  options.port_file = config.port_file;
  auto credentials = ServerCredentialsFor(config.tls);
  if (!credentials.ok()) return credentials.status();
  options.credentials = *std::move(credentials);
  return options;
}

}  // namespace signpost
