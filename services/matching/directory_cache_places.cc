// DirectoryCache as the PlaceReservations: a place taken by a resource write that records the
// referral holding it (write_resource.lua).
#include "services/matching/directory_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/matching/redis_keys.h"
#include "services/matching/resource_write.h"

namespace signpost::matching {

absl::StatusOr<DirectoryCache::TakenPlace> DirectoryCache::TakePlace(const std::string& resource_id,
                                                                     const std::string& referral_id,
                                                                     absl::Time now) {
  // Enough for any realistic contention on one resource; past it the caller is told to retry.
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // The stamp before the record: a write landing between the two leaves a newer record under
    // an older stamp, which the script finds stale.
    auto read = redis_.Pipeline({{"GET", keys::Stamp(resource_id)},
                                 {"GET", keys::Resource(resource_id)},
                                 {"SISMEMBER", keys::Reservations(resource_id), referral_id}});
    if (!read.ok()) return read.status();
    for (const auto& reply : *read) {
      if (reply.type == redis::Reply::Type::kError) return redis::ErrorReplyStatus(reply.str);
    }
    const redis::Reply& stamp = (*read)[0];
    const redis::Reply& record = (*read)[1];
    if (record.is_nil()) {
      return absl::NotFoundError(absl::StrCat("no resource '", resource_id, "'"));
    }
    TakenPlace out;
    if (!out.resource.ParseFromString(record.str)) {
      return absl::DataLossError(absl::StrCat("cached resource ", resource_id, " is corrupt"));
    }
    if ((*read)[2].integer == 1) {
      out.earlier = true;
      return out;
    }
    v1::Resource& resource = out.resource;
    v1::Capacity* capacity = resource.mutable_capacity();
    if (capacity->places_available() <= 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no place left at ", resource.name(), " (", resource.id(), "); waitlist ",
                       capacity->waitlist_open() ? "open" : "closed"));
    }
    capacity->set_places_available(capacity->places_available() - 1);
    capacity->mutable_updated_at()->set_seconds(absl::ToUnixSeconds(now));
    // A version later than the one it replaces, whatever this machine's clock says.
    absl::Time version = now;
    if (resource.has_updated_at()) {
      absl::Time read_version = absl::FromUnixSeconds(resource.updated_at().seconds()) +
                                absl::Nanoseconds(resource.updated_at().nanos());
      version = std::max(version, read_version + absl::Nanoseconds(1));
    }
    int64_t nanos = absl::ToUnixNanos(version);
    resource.mutable_updated_at()->set_seconds(nanos / 1000000000);
    resource.mutable_updated_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
    auto taken = WriteResource(redis_, {.resource_id = resource_id,
                                        .taking_for = referral_id,
                                        .read_stamp = stamp.is_nil() ? "" : stamp.str,
                                        .record = &resource});
    if (!taken.ok()) return taken.status();
    if (taken->str == "stale") continue;
    if (taken->str == "earlier") {
      auto current = GetResource(resource_id);
      if (!current.ok()) return current.status();
      if (current->has_value()) out.resource = **current;
      out.earlier = true;
      return out;
    }
    if (taken->type == redis::Reply::Type::kString) {
      memo_.Put(resource_id, taken->str, std::make_shared<v1::Resource>(resource));
    }
    return out;
  }
  return absl::AbortedError(
      absl::StrCat("resource ", resource_id, " kept changing while a place was taken: try again"));
}

}  // namespace signpost::matching
