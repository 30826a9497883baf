#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace signpost::testing {

// One of our service binaries (build/bin) run as a real process for a test: its gRPC port comes
// from --port-file, its log goes to a file, and it is stopped with SIGTERM (then SIGKILL).
class ServiceProcess {
 public:
  ServiceProcess(std::string binary, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  absl::Status Start();
  // Returns the exit status (as from waitpid) after SIGTERM, or -1 if it had to be killed.
  int Stop();

  int port() const { return port_; }
  // The metrics listener's port, when the service was given --metrics-listen.
  int metrics_port() const;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The running process's id (-1 when it is not running), e.g. to read /proc/<pid>/status.
  pid_t pid() const { return pid_; }
  std::string Logs() const;

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// build/bin/NAME
std::string BinaryPath(const std::string& name);

}  // namespace signpost::testing
