#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/address.h"
#include "common/redis/redis_connection.h"

namespace signpost::redis {

struct SentinelOptions {
  std::vector<HostPort> sentinels;  // empty: no Sentinel, the pool uses its fixed address
  std::string master_name = "signpost";
  // What the sentinels themselves require (their requirepass); empty for none.
  std::string password;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(1);
};

// Finds the current primary of a Sentinel-managed Redis: asks each sentinel in turn (SENTINEL
// get-master-addr-by-name) and takes the first answer. The answer may be stale during a
// failover; the caller checks it with ROLE and asks again.
class SentinelResolver {
 public:
  explicit SentinelResolver(SentinelOptions options) : options_(std::move(options)) {}

  // The primary's address; UNAVAILABLE when no sentinel names one (each sentinel's failure in
  // the message), PERMISSION_DENIED when the sentinels refuse the password.
  absl::StatusOr<HostPort> Primary() const;

  const SentinelOptions& options() const { return options_; }

 private:
  absl::StatusOr<HostPort> AskOne(const HostPort& sentinel) const;

  SentinelOptions options_;
};

}  // namespace signpost::redis
