// signpostctl keys new | keys check
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "common/crypto/data_keyring.h"
#include "tools/ctl/commands.h"

namespace signpost::ctl {

void AddKeyCommands(CLI::App& app, CtlContext& /*ctx*/, int& exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Data keyrings that seal personal details");
  keys->require_subcommand(1);

  auto id = std::make_shared<std::string>();
  CLI::App* fresh = keys->add_subcommand(
      "new", "Print a new keyring (one data key and the person-hash key); keep it secret");
  fresh->add_option("--id", *id, "The new data key's id, e.g. the month it starts")->required();
  fresh->callback([&exit_code, id] {
    auto text = crypto::NewKeyringText(*id);
    if (!text.ok()) {
      std::cerr << "signpostctl: " << text.status().message() << "\n";
      exit_code = kFailed;
      return;
    }
    std::cout << *text;
  });

  auto path = std::make_shared<std::string>();
  CLI::App* check = keys->add_subcommand("check", "Check a keyring file; print its key ids");
  check->add_option("FILE", *path, "The keyring")->required();
  check->callback([&exit_code, path] {
    auto ring = crypto::DataKeyring::Load(*path);
    if (!ring.ok()) {
      std::cerr << "signpostctl: " << ring.status().message() << "\n";
      exit_code = kFailed;
      return;
    }
    std::cout << ring->Describe() << "\n";
  });
}

}  // namespace signpost::ctl
