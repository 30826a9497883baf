#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/redis/redis_client.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// The one script that writes a resource to the directory cache (write_resource.lua): a write or
// removal from the topic or the directory service, or a write that takes a place for a referral.
struct ResourceWrite {
  std::string resource_id;
  std::string load_generation;           // "" outside a load of the topic
  std::string taking_for;                // the referral taking a place; "" for a write
  std::string read_stamp;                // taking a place: the stamp of the record it was made from
  const v1::Resource* record = nullptr;  // nullptr removes the resource
};

// Runs it. The reply is the script's (a stamp when it wrote the record); its refusals become
// statuses: UNAVAILABLE while the cache is being cleared (try again shortly), ABORTED when the
// cache was cleared since the load began (read the topic again from its beginning).
absl::StatusOr<redis::Reply> WriteResource(redis::RedisClient& redis, const ResourceWrite& write);

// A script's error reply as a status: the cache fence's refusals (CLEARING, STALEGENERATION) say
// what the caller does next.
absl::Status ScriptErrorStatus(const std::string& error);

}  // namespace signpost::matching
