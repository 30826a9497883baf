#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/redis/redis_client.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// The directory cache read whole, for publishing it (the Open Referral UK API): every resource id
// in a stable order, and the records of a slice of them. Reads only; the cache is written by the
// directory loader (directory_cache.cc). There is no index of all ids: Ids() walks the cache's
// keys with SCAN, so it costs a pass over the keyspace and the ids in memory (tens of bytes a
// resource), never the records.
class DirectoryListing {
 public:
  explicit DirectoryListing(redis::RedisClient& redis) : redis_(redis) {}

  // Every cached resource's id, sorted, each once.
  absl::StatusOr<std::vector<std::string>> Ids();

  // The records of `ids`, in their order; one removed since Ids() is left out. DATA_LOSS for a
  // record that does not parse.
  absl::StatusOr<std::vector<v1::Resource>> Records(const std::vector<std::string>& ids);

  // Ids() is fetched this many at a time; Records() in MGETs of kRecordsPerRead.
  static constexpr int kIdsPerScan = 1000;
  static constexpr size_t kRecordsPerRead = 200;

 private:
  redis::RedisClient& redis_;
};

}  // namespace signpost::matching
