#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace signpost::testing {

// A real redis-server for one test: its own free port and data folder, stopped on destruction.
class RedisServer {
 public:
  // With `append_only`, every write is fsynced to an AOF in dir(): a restart loses nothing.
  explicit RedisServer(bool append_only = false);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server (on the same port as before, after a Stop) and waits until it answers.
  absl::Status Start();
  // Stops it (SIGKILL when `crash`, else SIGTERM) and waits for the process to end.
  void Stop(bool crash = false);
  // Freezes the process (SIGSTOP): connections stay open and nothing is answered, as with a
  // server stalled on its disk or descheduled. Resume (SIGCONT) lets it go on where it was.
  void Suspend();
  void Resume();

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:port"
  const std::string& dir() const { return dir_; }

 private:
  bool append_only_ = false;
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
  bool suspended_ = false;
};

}  // namespace signpost::testing
