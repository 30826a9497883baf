// signpostctl: one command line for operators and integrators. It talks gRPC to the services and
// reads Kafka directly; addresses come from flags, SIGNPOST_* variables, or the endpoints file
// tools/run writes. Exit codes: 0 done, 1 refused (the message says why), 2 usage, 3 a service
// or the broker could not be reached.
#include <CLI/CLI.hpp>
#include <string>

#include "tools/ctl/commands.h"

int main(int argc, char** argv) {
  using namespace signpost::ctl;
  CtlContext ctx;
  int exit_code = kOk;
  // The endpoints file is read before the other flags (they win over it), so find it first.
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--endpoints" && i + 1 < argc) ctx.endpoints_file = argv[i + 1];
    if (arg.rfind("--endpoints=", 0) == 0) ctx.endpoints_file = arg.substr(12);
  }
  CLI::App app(
      "signpostctl: submit referrals, follow queues, watch the flows, replay dead letters");
  app.require_subcommand(1);
  app.add_option("--endpoints", ctx.endpoints_file, "Addresses written by tools/run")
      ->capture_default_str();
  app.add_option("--intake", ctx.intake, "signpost-intake's gRPC address");
  app.add_option("--matching", ctx.matching, "signpost-matching's gRPC address");
  app.add_option("--followup", ctx.followup, "signpost-followup's gRPC address");
  app.add_option("--monitor", ctx.monitor, "signpost-monitor's gRPC address");
  app.add_option("--kafka-bootstrap", ctx.kafka_bootstrap, "Kafka bootstrap servers");
  app.add_option("--topic-prefix", ctx.topic_prefix, "The deployment's topic prefix");
  app.add_flag("--json", ctx.json, "JSON instead of tables");
  app.add_option("--tls-ca", ctx.tls_ca, "CA of the services' certificates (SIGNPOST_TLS_CA)");
  app.add_option("--tls-cert", ctx.tls_cert, "Client certificate, for mutual TLS");
  app.add_option("--tls-key", ctx.tls_key, "Its private key");
  app.add_flag("--insecure{true}", ctx.insecure, "Plaintext calls (SIGNPOST_INSECURE=true)");
  app.add_option("--token", ctx.token, "Bearer token for every call (SIGNPOST_TOKEN)");
  app.add_option("--token-signing-key", ctx.token_signing_key,
                 "Development: sign a token per command with this key (tools/run's)");
  // Before the flags are read: what flags give then wins over the environment and the file.
  app.preparse_callback([&ctx](std::size_t) { ctx.Resolve(); });
  AddReferralCommands(app, ctx, exit_code);
  AddDirectoryCommands(app, ctx, exit_code);
  AddTaskCommands(app, ctx, exit_code);
  AddOpsCommands(app, ctx, exit_code);
  AddTopicCommands(app, ctx, exit_code);
  AddKeyCommands(app, ctx, exit_code);
  AddTokenCommands(app, ctx, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  return exit_code;
}
