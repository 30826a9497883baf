#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace signpost {

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0 picks a free port
  std::string port_file;               // the bound port is written here when set
  int max_receive_message_bytes = 4 * 1024 * 1024;
  std::shared_ptr<grpc::ServerCredentials> credentials;  // plaintext when null
};

// A started gRPC server with the health service (grpc.health.v1) and reflection (v1alpha).
// Health answers SERVING for the empty name and for every registered service's full name (e.g.
// "signpost.v1.IntakeService"), NOT_SERVING for all of them once SetServing(false) or Shutdown.
// Services use the callback API; they must outlive the server.
class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, const std::vector<grpc::Service*>& services);
  ~GrpcServer();

  int port() const { return port_; }
  std::string address() const { return address_; }

  // Marks the server SERVING or NOT_SERVING in the health service (overall and per service).
  void SetServing(bool serving);

  // Stops taking new calls, lets calls in progress finish for up to `grace`, then cancels them.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address);

  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace signpost
