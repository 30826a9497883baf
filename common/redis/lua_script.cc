#include "common/redis/lua_script.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"

namespace signpost::redis {

LuaScript::LuaScript(std::string body) : body_(std::move(body)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body_.data()), body_.size(), digest);
  sha1_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

absl::StatusOr<Reply> LuaScript::Run(RedisClient& redis, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) const {
  Command command = {"EVALSHA", sha1_, std::to_string(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  auto reply = redis.Execute(command);
  if (reply.ok() || reply.status().code() != absl::StatusCode::kNotFound) return reply;
  command[0] = "EVAL";
  command[1] = body_;
  return redis.Execute(command);
}

}  // namespace signpost::redis
