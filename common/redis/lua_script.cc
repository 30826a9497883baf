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

Command LuaScript::ShaCommand(const std::vector<std::string>& keys,
                              const std::vector<std::string>& args) const {
  Command command = {"EVALSHA", sha1_, std::to_string(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

bool LuaScript::IsNoScript(const Reply& reply) {
  return reply.type == Reply::Type::kError && reply.str.rfind("NOSCRIPT", 0) == 0;
}

absl::StatusOr<Reply> LuaScript::Run(RedisClient& redis, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) const {
  auto replies = RunMany(redis, {{keys, args}});
  if (!replies.ok()) return replies.status();
  Reply& reply = replies->front();
  if (reply.type == Reply::Type::kError) return ErrorReplyStatus(reply.str);
  return std::move(reply);
}

absl::StatusOr<std::vector<Reply>> LuaScript::RunMany(RedisClient& redis,
                                                      const std::vector<Call>& calls) const {
  if (calls.empty()) return std::vector<Reply>();
  std::vector<Command> commands;
  commands.reserve(calls.size());
  for (const auto& call : calls) commands.push_back(ShaCommand(call.keys, call.args));
  auto replies = redis.Pipeline(commands);
  if (!replies.ok()) return replies;
  // A server that restarted (or a new one) has no cached script: those calls did not run.
  std::vector<size_t> missing;
  for (size_t i = 0; i < replies->size(); ++i) {
    if (IsNoScript((*replies)[i])) missing.push_back(i);
  }
  if (missing.empty()) return replies;
  std::vector<Command> again;
  for (size_t i : missing) {
    Command command = commands[i];
    command[0] = "EVAL";
    command[1] = body_;
    again.push_back(std::move(command));
  }
  auto retried = redis.Pipeline(again);
  if (!retried.ok()) return retried.status();
  for (size_t j = 0; j < missing.size(); ++j) (*replies)[missing[j]] = std::move((*retried)[j]);
  return replies;
}

}  // namespace signpost::redis
