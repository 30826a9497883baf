#include "common/grpc/tls_credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>

#include "common/metrics/http_endpoint.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace signpost {
namespace {

using ::testing::HasSubstr;

// A local CA with a server and a client certificate, made by tools/tls as tools/run makes them.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/tls-" + std::to_string(getpid()));
    std::string make = std::string(SIGNPOST_SOURCE_DIR) + "/tools/tls make " + *dir_;
    ASSERT_EQ(std::system(make.c_str()), 0);
  }
  static std::string File(const std::string& name) { return *dir_ + "/" + name; }

  static TlsConfig Server(bool mutual = false) {
    return {.cert = File("server.pem"),
            .key = File("server.key"),
            .client_ca = mutual ? File("ca.pem") : ""};
  }

  std::unique_ptr<GrpcServer> Start(const TlsConfig& tls) {
    CommonConfig config;
    config.tls = tls;
    auto options = GrpcServerOptionsFrom(config);
    EXPECT_TRUE(options.ok()) << options.status();
    auto server = GrpcServer::Start(*options, {});
    EXPECT_TRUE(server.ok()) << server.status();
    return *std::move(server);
  }

  // The health check's status code through a client with `tls`.
  static grpc::StatusCode Call(int port, const TlsConfig& tls) {
    auto credentials = ChannelCredentialsFor(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), *credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response).error_code();
  }

  static std::string* dir_;
};
std::string* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, ClientsThatTrustTheCaAreServedAndPlaintextIsNot) {
  auto server = Start(Server());
  EXPECT_EQ(Call(server->port(), {.ca = File("ca.pem")}), grpc::StatusCode::OK);
  EXPECT_EQ(Call(server->port(), {.insecure = true}), grpc::StatusCode::UNAVAILABLE);
  // The system's roots do not know the local CA.
  EXPECT_EQ(Call(server->port(), {}), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  auto server = Start(Server(/*mutual=*/true));
  EXPECT_EQ(Call(server->port(), {.ca = File("ca.pem")}), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(server->port(),
                 {.cert = File("client.pem"), .key = File("client.key"), .ca = File("ca.pem")}),
            grpc::StatusCode::OK);
}

TEST_F(TlsTest, BadFilesAreNamedErrors) {
  EXPECT_THAT(std::string(ServerCredentialsFor({.cert = "/nonexistent", .key = File("server.key")})
                              .status()
                              .message()),
              HasSubstr("--tls-cert: cannot read /nonexistent"));
  EXPECT_THAT(std::string(ServerCredentialsFor({.cert = File("server.pem"), .key = "/etc/hostname"})
                              .status()
                              .message()),
              HasSubstr("--tls-key: /etc/hostname holds no PEM block"));
  EXPECT_FALSE(ChannelCredentialsFor({.ca = "/nonexistent"}).ok());
}

TEST_F(TlsTest, TheHttpEndpointServesTlsWithTheSameCertificate) {
  metrics::Registry registry;
  metrics::HttpEndpoint http(registry, nullptr);
  auto port = http.Start("127.0.0.1:0", Server());
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::SSLClient client("127.0.0.1", *port);
  client.set_ca_cert_path(File("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto ok = client.Get("/healthz");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  httplib::Client plain("127.0.0.1", *port);
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
  http.Stop();

  metrics::HttpEndpoint bad(registry, nullptr);
  EXPECT_FALSE(bad.Start("127.0.0.1:0", {.cert = File("server.pem"), .key = File("ca.pem")}).ok());
}

}  // namespace
}  // namespace signpost
