#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "common/status/grpc_status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace signpost::testing {

// Asks the gRPC health service at `address` (host:port, plaintext) about `service` ("" for the
// server as a whole), as Kubernetes' gRPC probes and grpc-health-probe do: the status it serves,
// or why the call failed (NOT_FOUND for a service it does not know).
inline absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> CheckHealth(
    const std::string& address, const std::string& service = "") {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response.status();
}

}  // namespace signpost::testing
