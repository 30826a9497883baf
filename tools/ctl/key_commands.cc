// signpostctl keys new | keys rotate | keys check
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

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

  auto rotate_args = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* rotate = keys->add_subcommand(
      "rotate", "Add a new first data key to a keyring file (it seals from now on; old ones open)");
  rotate->add_option("FILE", rotate_args->first, "The keyring, rewritten in place")->required();
  rotate->add_option("--id", rotate_args->second, "The new data key's id")->required();
  rotate->callback([&exit_code, rotate_args] {
    const auto& [file, new_id] = *rotate_args;
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    auto rotated = crypto::RotateKeyringText(text.str(), new_id);
    if (!in || !rotated.ok()) {
      std::cerr << "signpostctl: " << file << ": "
                << (in ? rotated.status().message() : "cannot read it") << "\n";
      exit_code = kFailed;
      return;
    }
    // Written beside (never readable by others, not even for a moment), flushed to disk and
    // renamed over, so a crash leaves the old keyring whole; the file keeps its mode and owner.
    std::string next = file + ".new";
    struct stat before {};
    bool known = ::stat(file.c_str(), &before) == 0;
    int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok =
        fd >= 0 &&
        ::write(fd, rotated->data(), rotated->size()) == static_cast<ssize_t>(rotated->size()) &&
        (!known || ::fchmod(fd, before.st_mode & 07777) == 0) &&
        (!known || ::fchown(fd, before.st_uid, before.st_gid) == 0 || errno == EPERM) &&
        ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok || ::rename(next.c_str(), file.c_str()) != 0) {
      std::cerr << "signpostctl: replacing " << file << ": " << std::strerror(errno) << "\n";
      ::unlink(next.c_str());
      exit_code = kFailed;
      return;
    }
    std::cout << crypto::DataKeyring::Parse(*rotated)->Describe() << "\n";
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
