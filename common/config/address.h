#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace signpost {

struct HostPort {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// "host:port" or "[v6addr]:port"; port 0 (pick a free one) only when allow_port_zero.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool allow_port_zero = false);

// A comma-separated list of host:port, as Kafka bootstrap servers are written.
absl::StatusOr<std::vector<HostPort>> ParseHostPortList(absl::string_view text);

// Where Redis listens: TCP host:port or a unix socket ("unix:/path/to/socket").
struct RedisAddress {
  HostPort tcp;
  std::string unix_socket;  // set for a unix socket, then tcp is empty

  std::string ToString() const;
};

absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view text);

}  // namespace signpost
