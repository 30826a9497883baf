#include "common/redis/redis_connection.h"

#include <sys/time.h>

#include <cerrno>

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signpost::redis {
namespace {

absl::Status ContextError(const redisContext& context, const std::string& where) {
  if (context.err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return absl::UnavailableError(absl::StrCat(where, ": timed out"));
  }
  return absl::UnavailableError(absl::StrCat(where, ": ", context.errstr));
}

}  // namespace

void ContextFree::operator()(redisContext* context) const {
  if (context) redisFree(context);
}

absl::StatusOr<ContextPtr> OpenConnection(const RedisAddress& address,
                                          const ConnectOptions& options) {
  const std::string where = absl::StrCat("redis at ", address.ToString());
  timeval connect_timeout = absl::ToTimeval(options.connect_timeout);
  ContextPtr context(
      address.unix_socket.empty()
          ? redisConnectWithTimeout(address.tcp.host.c_str(), address.tcp.port, connect_timeout)
          : redisConnectUnixWithTimeout(address.unix_socket.c_str(), connect_timeout));
  if (!context) return absl::ResourceExhaustedError("redis: cannot allocate a connection");
  if (context->err) {
    return absl::UnavailableError(absl::StrCat(where, " unreachable: ", context->errstr));
  }
  redisSetTimeout(context.get(), absl::ToTimeval(options.command_timeout));
  if (address.unix_socket.empty()) redisEnableKeepAlive(context.get());
  const RedisCredentials& credentials = options.credentials;
  if (credentials.password.empty()) return context;
  Command auth = {"AUTH"};
  if (!credentials.username.empty()) auth.push_back(credentials.username);
  auth.push_back(credentials.password);
  auto replies = RoundTrip(*context, {auth}, where);
  if (!replies.ok()) return replies.status();
  const Reply& reply = replies->front();
  if (reply.type != Reply::Type::kError) return context;
  if (absl::Status refused = AuthenticationRefusal(reply, where, credentials); !refused.ok()) {
    return refused;
  }
  // Any other error to AUTH (e.g. "ERR AUTH <password> called without any password configured
  // for the default user") is a refusal too: the server is not set up as we are.
  return absl::PermissionDeniedError(absl::StrCat(where, ": authentication as user '",
                                                  credentials.user(), "' refused: ", reply.str));
}

absl::StatusOr<std::vector<Reply>> RoundTrip(redisContext& context,
                                             const std::vector<Command>& commands,
                                             const std::string& where, const Command* trailing) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  auto append = [&](const Command& command) {
    argv.clear();
    lengths.clear();
    for (const auto& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    return redisAppendCommandArgv(&context, static_cast<int>(argv.size()), argv.data(),
                                  lengths.data()) == REDIS_OK;
  };
  for (const auto& command : commands) {
    if (!append(command)) return ContextError(context, where);
  }
  if (trailing && !append(*trailing)) return ContextError(context, where);
  const size_t expected = commands.size() + (trailing ? 1 : 0);
  std::vector<Reply> replies;
  replies.reserve(expected);
  for (size_t i = 0; i < expected; ++i) {
    void* raw = nullptr;
    if (redisGetReply(&context, &raw) != REDIS_OK || raw == nullptr) {
      return ContextError(context, where);
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(Reply::FromHiredis(*reply));
    freeReplyObject(reply);
  }
  return replies;
}

absl::Status AuthenticationRefusal(const Reply& reply, const std::string& where,
                                   const RedisCredentials& credentials) {
  if (reply.type != Reply::Type::kError) return absl::OkStatus();
  if (absl::StartsWith(reply.str, "NOAUTH")) {
    return absl::PermissionDeniedError(absl::StrCat(
        where,
        ": requires authentication and none is configured (--redis-password-file): ", reply.str));
  }
  if (absl::StartsWith(reply.str, "WRONGPASS")) {
    return absl::PermissionDeniedError(absl::StrCat(where, ": authentication as user '",
                                                    credentials.user(), "' refused: ", reply.str));
  }
  return absl::OkStatus();
}

}  // namespace signpost::redis
