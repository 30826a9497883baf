#include "common/grpc/grpc_server.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "signpost/v1/ops_service.grpc.pb.h"
#include "tests/support/grpc_health.h"

namespace signpost {
namespace {

grpc::health::v1::HealthCheckResponse::ServingStatus Check(int port,
                                                           const std::string& service = "") {
  auto serving = testing::CheckHealth("127.0.0.1:" + std::to_string(port), service);
  EXPECT_TRUE(serving.ok()) << service << ": " << serving.status();
  return serving.value_or(grpc::health::v1::HealthCheckResponse::UNKNOWN);
}

TEST(GrpcServerTest, PicksAPortWritesItAndServesHealth) {
  std::string port_file = ::testing::TempDir() + "/grpc-port";
  std::remove(port_file.c_str());
  GrpcServerOptions options;
  options.listen = "127.0.0.1:0";
  options.port_file = port_file;
  auto server = GrpcServer::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  int port = (*server)->port();
  ASSERT_GT(port, 0);
  std::ifstream in(port_file);
  int written = 0;
  in >> written;
  EXPECT_EQ(written, port);
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string(port));

  EXPECT_EQ(Check(port), grpc::health::v1::HealthCheckResponse::SERVING);
  (*server)->SetServing(false);
  EXPECT_EQ(Check(port), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  (*server)->Shutdown(absl::Seconds(1));
}

// Kubernetes gRPC probes and grpc-health-probe -service=... ask by the service's full name.
TEST(GrpcServerTest, HealthAnswersForEveryRegisteredServiceByItsFullName) {
  v1::OpsService::CallbackService ops;  // its methods unimplemented: only its name matters here
  auto server = GrpcServer::Start(GrpcServerOptions{}, {&ops});
  ASSERT_TRUE(server.ok()) << server.status();
  int port = (*server)->port();
  EXPECT_EQ(Check(port), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(port, "signpost.v1.OpsService"), grpc::health::v1::HealthCheckResponse::SERVING);
  // A name no service has stays unknown.
  EXPECT_EQ(testing::CheckHealth("127.0.0.1:" + std::to_string(port), "signpost.v1.NoSuchService")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  (*server)->SetServing(false);
  EXPECT_EQ(Check(port, "signpost.v1.OpsService"),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(port), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  (*server)->SetServing(true);
  EXPECT_EQ(Check(port, "signpost.v1.OpsService"), grpc::health::v1::HealthCheckResponse::SERVING);
  (*server)->Shutdown(absl::Seconds(1));
}

TEST(GrpcServerTest, UnusableAddressIsAnError) {
  GrpcServerOptions options;
  options.listen = "not-an-address";
  EXPECT_FALSE(GrpcServer::Start(options, {}).ok());
}

}  // namespace
}  // namespace signpost
