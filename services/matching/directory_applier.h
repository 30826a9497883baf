#pragma once

#include "absl/status/status.h"
#include "common/kafka/message.h"
#include "services/matching/directory_cache.h"

namespace signpost::matching {

// Applies one record of the signpost.directory.resources topic to the cache: a resource, link
// worker or network upsert, or a tombstone (null value) that deletes a resource. Records it
// cannot read are skipped with an error status of kind INVALID_ARGUMENT; Redis failures are
// UNAVAILABLE (to be retried).
absl::Status ApplyDirectoryRecord(const kafka::ConsumedMessage& message, DirectoryCache& cache);

}  // namespace signpost::matching
