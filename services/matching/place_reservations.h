#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// The places taken at resources, one per referral and resource. DirectoryCache is the Redis
// implementation; tests/services/matching/fakes holds an in-memory one.
class PlaceReservations {
 public:
  virtual ~PlaceReservations() = default;

  // One place at a resource for a referral, taken once: the place and the record that the
  // referral holds it are written together, so a call repeated after any failure takes no second
  // place. No lock: a reservation reads the record, takes the place from what it read, and is
  // written only if nothing changed the record in between (else it reads again).
  struct TakenPlace {
    v1::Resource resource;  // after this reservation (or as it is now, when taken before)
    bool earlier = false;   // the referral held the place already
  };
  // NOT_FOUND for no such resource, RESOURCE_EXHAUSTED when no place is left, ABORTED when the
  // record kept changing. `now` becomes the record's version (later than the one it replaces).
  virtual absl::StatusOr<TakenPlace> TakePlace(const std::string& resource_id,
                                               const std::string& referral_id, absl::Time now) = 0;
};

}  // namespace signpost::matching
