#pragma once

#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "services/matching/referral_matcher.h"

namespace signpost::matching {

// Postcodes and postcode districts to points, LSOA and IMD decile, in Redis. Deployments load
// the national open data (a CSV: postcode,latitude,longitude,lsoa,imd_decile; a row whose
// postcode is a district, e.g. "LS6", gives the district's centre).
//
// Answers are remembered in process for `remember` (postcode data changes a few times a year, and
// a referral's postcode is looked up on every match), up to `max_remembered` postcodes.
class PostcodeLookup {
 public:
  explicit PostcodeLookup(redis::RedisClient& redis, absl::Duration remember = absl::Minutes(10),
                          size_t max_remembered = 200000)
      : redis_(redis), remember_(remember), max_remembered_(max_remembered) {}

  // Loads a CSV (with a header line); returns the number of rows loaded. Bad rows are reported
  // with their line numbers and nothing is loaded.
  absl::StatusOr<int> LoadCsv(const std::string& path);

  // The postcode's own point when known, else its district's, else none.
  absl::StatusOr<PersonLocation> Locate(const std::string& postcode, const std::string& district);

  // How a postcode or district is held, for a reader that fetches it with other things in one
  // round trip: a hash at KeyOf(code) with kFields, and the location its replies (HMGET of
  // kFields for the postcode and for the district) give.
  static std::string KeyOf(const std::string& code);
  static constexpr const char* kFields[] = {"lat", "lon", "lsoa", "imd"};
  static PersonLocation FromRecords(const redis::Reply& postcode, const redis::Reply& district);

 private:
  absl::StatusOr<PersonLocation> Fetch(const std::string& postcode, const std::string& district);

  struct Remembered {
    PersonLocation location;
    absl::Time until;
  };

  redis::RedisClient& redis_;
  const absl::Duration remember_;
  const size_t max_remembered_;
  absl::Mutex mu_;
  std::unordered_map<std::string, Remembered> remembered_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // moves on every load
};

}  // namespace signpost::matching
