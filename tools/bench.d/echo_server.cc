// signpost-bench-echo: the bare gRPC server the benchmarks compare against. Same bootstrap
// (callback API, health, reflection) as the services; the handler only copies the request.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "common/grpc/grpc_server.h"
#include "common/process/process_tuning.h"
#include "common/process/shutdown_signal.h"
#include "signpost/bench/v1/echo.grpc.pb.h"

namespace {

class EchoService final : public signpost::bench::v1::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const signpost::bench::v1::EchoMessage* request,
                                 signpost::bench::v1::EchoMessage* response) override {
    *response = *request;
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  signpost::TuneProcess();
  signpost::GrpcServerOptions options;
  CLI::App app("signpost-bench-echo: baseline gRPC echo server");
  app.add_option("--listen", options.listen)->capture_default_str();
  app.add_option("--port-file", options.port_file);
  CLI11_PARSE(app, argc, argv);
  signpost::BlockShutdownSignals();
  EchoService service;
  auto server = signpost::GrpcServer::Start(options, {&service});
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return 1;
  }
  signpost::WaitForShutdownSignal();
  (*server)->Shutdown(absl::Seconds(2));
  return 0;
}
