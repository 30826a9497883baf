#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/address.h"
#include "common/redis/redis_client.h"

struct redisContext;

namespace signpost::redis {

// Who a connection authenticates as: an ACL user with its password, or (username empty) the
// default user with the server's requirepass; no AUTH at all when the password is empty.
struct RedisCredentials {
  std::string username;
  std::string password;

  // The user as Redis names it: "default" without a username.
  std::string user() const { return username.empty() ? "default" : username; }
};

struct ConnectOptions {
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  RedisCredentials credentials;
};

struct ContextFree {
  void operator()(redisContext* context) const;
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

// A connection to the Redis (or Sentinel) at `address`, authenticated (AUTH right after
// connecting) when the credentials hold a password. UNAVAILABLE when it cannot be reached or
// does not answer in time; PERMISSION_DENIED, naming the server and the user, when the server
// refuses the credentials.
absl::StatusOr<ContextPtr> OpenConnection(const RedisAddress& address,
                                          const ConnectOptions& options);

// Sends `commands` (and `trailing` after them, when given) in one round trip and reads their
// replies. UNAVAILABLE (the connection is then unusable) when writing or reading fails or times
// out; error replies stay in the vector.
absl::StatusOr<std::vector<Reply>> RoundTrip(redisContext& context,
                                             const std::vector<Command>& commands,
                                             const std::string& where,
                                             const Command* trailing = nullptr);

// PERMISSION_DENIED for a reply that says the connection is not allowed in (NOAUTH: a password
// is needed; WRONGPASS: the one given is wrong), naming `where` and the user; OK otherwise.
absl::Status AuthenticationRefusal(const Reply& reply, const std::string& where,
                                   const RedisCredentials& credentials);

}  // namespace signpost::redis
