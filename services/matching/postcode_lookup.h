#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/redis/redis_client.h"
#include "services/matching/referral_matcher.h"

namespace signpost::matching {

// Postcodes and postcode districts to points, LSOA and IMD decile, in Redis. Deployments load
// the national open data (a CSV: postcode,latitude,longitude,lsoa,imd_decile; a row whose
// postcode is a district, e.g. "LS6", gives the district's centre).
class PostcodeLookup {
 public:
  explicit PostcodeLookup(redis::RedisClient& redis) : redis_(redis) {}

  // Loads a CSV (with a header line); returns the number of rows loaded. Bad rows are reported
  // with their line numbers and nothing is loaded.
  absl::StatusOr<int> LoadCsv(const std::string& path);

  // The postcode's own point when known, else its district's, else none.
  absl::StatusOr<PersonLocation> Locate(const std::string& postcode, const std::string& district);

 private:
  redis::RedisClient& redis_;
};

}  // namespace signpost::matching
