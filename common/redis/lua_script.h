#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/redis/redis_client.h"

namespace signpost::redis {

// A Lua script run with EVALSHA, falling back to EVAL when the server does not have it cached
// yet (after a restart or on a new server), so the script body crosses the wire once.
class LuaScript {
 public:
  explicit LuaScript(std::string body);

  absl::StatusOr<Reply> Run(RedisClient& redis, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args) const;

  struct Call {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  // Runs the script once per call in one pipeline (one round trip). Error replies stay in the
  // result as kError replies; calls the server had no cached script for are run again with EVAL.
  absl::StatusOr<std::vector<Reply>> RunMany(RedisClient& redis,
                                             const std::vector<Call>& calls) const;

  const std::string& sha1() const { return sha1_; }

  // The EVALSHA command, for a caller that sends it in a pipeline with other commands; when its
  // reply IsNoScript, Run it again (that sends the body once).
  Command ShaCommand(const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) const;
  static bool IsNoScript(const Reply& reply);

 private:
  std::string body_;
  std::string sha1_;
};

}  // namespace signpost::redis
