#include "common/redis/sentinel_resolver.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace signpost::redis {

absl::StatusOr<HostPort> SentinelResolver::Primary() const {
  std::vector<std::string> failures;
  absl::Status refusal;
  size_t refused = 0;
  for (const HostPort& sentinel : options_.sentinels) {
    auto primary = AskOne(sentinel);
    if (primary.ok()) return primary;
    if (primary.status().code() == absl::StatusCode::kPermissionDenied) {
      refusal = primary.status();
      ++refused;
    }
    failures.emplace_back(primary.status().message());
  }
  // Every sentinel refusing the password is a configuration problem, not an outage.
  if (refused > 0 && refused == options_.sentinels.size()) return refusal;
  return absl::UnavailableError(absl::StrCat("no sentinel names the primary of '",
                                             options_.master_name,
                                             "': ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<HostPort> SentinelResolver::AskOne(const HostPort& sentinel) const {
  RedisAddress address;
  address.tcp = sentinel;
  const std::string where = absl::StrCat("sentinel ", sentinel.ToString());
  ConnectOptions connect;
  connect.connect_timeout = options_.connect_timeout;
  connect.command_timeout = options_.command_timeout;
  connect.credentials.password = options_.password;
  auto context = OpenConnection(address, connect);
  if (!context.ok()) {
    return absl::Status(context.status().code(),
                        absl::StrCat(where, ": ", context.status().message()));
  }
  auto replies =
      RoundTrip(**context, {{"SENTINEL", "get-master-addr-by-name", options_.master_name}}, where);
  if (!replies.ok()) return replies.status();
  const Reply& reply = replies->front();
  if (absl::Status refused = AuthenticationRefusal(reply, where, connect.credentials);
      !refused.ok()) {
    return refused;
  }
  if (reply.type == Reply::Type::kError) {
    return absl::UnavailableError(absl::StrCat(where, ": ", reply.str));
  }
  if (reply.is_nil()) {
    return absl::UnavailableError(
        absl::StrCat(where, ": does not monitor a master named '", options_.master_name, "'"));
  }
  int port = 0;
  if (reply.type != Reply::Type::kArray || reply.elements.size() != 2 ||
      !absl::SimpleAtoi(reply.elements[1].str, &port) || port <= 0 || port > 65535) {
    return absl::UnavailableError(absl::StrCat(where, ": unexpected answer to get-master-addr"));
  }
  return HostPort{reply.elements[0].str, static_cast<uint16_t>(port)};
}

}  // namespace signpost::redis
