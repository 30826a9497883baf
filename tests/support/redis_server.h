#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/redis/redis_reply.h"

namespace signpost::testing {

// How a test's redis-server is set up.
struct RedisServerOptions {
  // Every write fsynced to an AOF in dir(): a restart loses nothing.
  bool append_only = false;
  // When set, clients must authenticate: as `username` (an ACL user with every right; the
  // default user is then disabled) or, without a username, as the default user.
  std::string username;
  std::string password;
  // "host:port" of a primary this server replicates, authenticating with the same
  // username/password as its own clients do.
  std::string replica_of;
  // Run as a Sentinel (redis-server --sentinel); extra_config then holds the sentinel lines.
  bool sentinel = false;
  // Further redis.conf lines.
  std::vector<std::string> extra_config;
};

// A real redis-server for one test: its own free port, data folder and redis.conf (so that
// CONFIG REWRITE, which Sentinel uses, works), stopped on destruction.
class RedisServer {
 public:
  explicit RedisServer(bool append_only = false);
  explicit RedisServer(RedisServerOptions options);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server (on the same port and redis.conf as before, after a Stop) and waits
  // until it answers PING.
  absl::Status Start();
  // Stops it (SIGKILL when `crash`, else SIGTERM) and waits for the process to end.
  void Stop(bool crash = false);
  // Freezes the process (SIGSTOP): connections stay open and nothing is answered, as with a
  // server stalled on its disk or descheduled. Resume (SIGCONT) lets it go on where it was.
  void Suspend();
  void Resume();
  bool running() const { return pid_ > 0; }

  // One command on a fresh, authenticated connection (for checks and set-up in tests). An
  // error reply is returned as a Reply of type kError.
  absl::StatusOr<redis::Reply> Run(const std::vector<std::string>& command,
                                   int timeout_ms = 2000) const;

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:port"
  const std::string& dir() const { return dir_; }
  const RedisServerOptions& options() const { return options_; }

 private:
  void WriteConfig() const;

  RedisServerOptions options_;
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
  bool suspended_ = false;
};

// One command to the Redis (or Sentinel) at 127.0.0.1:`port`, authenticating first when
// `password` is set.
absl::StatusOr<redis::Reply> RunRedisCommand(int port, const std::vector<std::string>& command,
                                             const std::string& username = "",
                                             const std::string& password = "",
                                             int timeout_ms = 2000);

}  // namespace signpost::testing
