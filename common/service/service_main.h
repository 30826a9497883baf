#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "common/service/service_host.h"

namespace signpost {

// A service's whole main(): its flags parsed into `Config` by `add_options` (CLI11: --help, a bad
// flag and its exit code as CLI11 gives them), then ServiceHost::Main with `wire`.
template <typename Config>
int ServiceMain(int argc, char** argv, const std::string& service, const std::string& description,
                void (*add_options)(CLI::App&, Config&),
                absl::Status (*wire)(ServiceHost&, const Config&)) {
  Config config;
  CLI::App app(service + ": " + description);
  add_options(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ServiceHost::Main(service, config, wire);
}

}  // namespace signpost
