#include "tests/support/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/test_data_keys.h"

extern char** environ;

namespace signpost::testing {

std::string BinaryPath(const std::string& name) {
  return absl::StrCat(SIGNPOST_BINARY_DIR, "/bin/", name);
}

ServiceProcess::ServiceProcess(std::string binary, std::vector<std::string> args,
                               std::map<std::string, std::string> env)
    : binary_(std::move(binary)), args_(std::move(args)), env_(std::move(env)) {
  char pattern[] = "/tmp/signpost-service-XXXXXX";
  dir_ = mkdtemp(pattern);
}

ServiceProcess::~ServiceProcess() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string ServiceProcess::Logs() const {
  std::ifstream in(dir_ + "/log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status ServiceProcess::Start() {
  std::string port_file = dir_ + "/port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {binary_};
  args.insert(args.end(), args_.begin(), args_.end());
  args.push_back("--port-file");
  args.push_back(port_file);
  args.push_back("--metrics-port-file");
  args.push_back(dir_ + "/metrics-port");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : env_) env_strings.push_back(k + "=" + v);
  // Intake and follow-up seal and open personal details with the tests' keyring.
  if (!env_.contains("SIGNPOST_DATA_KEYS") && getenv("SIGNPOST_DATA_KEYS") == nullptr) {
    env_strings.push_back("SIGNPOST_DATA_KEYS=" + TestDataKeysPath());
  }
  // Plaintext unless a test asks for TLS (tests/common/grpc covers it; e2e runs tools/run).
  bool tls = false;
  for (const auto& a : args_) tls = tls || a == "--tls-cert";
  if (!tls && !env_.contains("SIGNPOST_INSECURE") && getenv("SIGNPOST_INSECURE") == nullptr) {
    env_strings.push_back("SIGNPOST_INSECURE=true");
  }
  // Every call let through unless a test gives the service token keys (the auth tests do).
  bool tokens = env_.contains("SIGNPOST_TOKEN_KEYS") || env_.contains("SIGNPOST_NO_AUTH");
  for (const auto& a : args_) tokens = tokens || a == "--token-keys" || a == "--no-auth";
  if (!tokens && getenv("SIGNPOST_NO_AUTH") == nullptr &&
      getenv("SIGNPOST_TOKEN_KEYS") == nullptr) {
    env_strings.push_back("SIGNPOST_NO_AUTH=true");
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = dir_ + "/log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::FailedPreconditionError(absl::StrCat("cannot start ", binary_));

  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat(binary_, " exited at start:\n", Logs()));
    }
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  Stop();
  return absl::DeadlineExceededError(absl::StrCat(binary_, " did not start:\n", Logs()));
}

int ServiceProcess::metrics_port() const {
  std::ifstream in(dir_ + "/metrics-port");
  int port = 0;
  in >> port;
  return port;
}

int ServiceProcess::Stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  int status = 0;
  while (absl::Now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

}  // namespace signpost::testing
