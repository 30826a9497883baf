#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/kafka/consumer.h"
#include "common/kafka/message.h"
#include "services/matching/directory_index.h"
#include "services/matching/roster.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

// One record of the signpost.directory.resources topic as the cache takes it: an event with a
// resource, link worker or network upsert, or nullopt for a tombstone. A record that is neither,
// or an upsert that fails the checks of the directory's write path (ValidateResource,
// ValidateLinkWorker, ValidateNetwork), is INVALID_ARGUMENT with what is wrong with it, naming the
// field (it can never be applied). Pure.
absl::StatusOr<std::optional<v1::Event>> ReadDirectoryRecord(const kafka::ConsumedMessage& message);

// What the directory's checking consumer (group signpost-matching-directory) does with a record:
// done when the cache can read it, else set aside on the dead-letter topic with the reason, by
// the one retry policy. The followers, which read the topic without a group, skip the same
// records, so each is dead-lettered once however many instances follow the topic.
kafka::Outcome CheckDirectoryRecord(const kafka::ConsumedMessage& message);

// Applies one record of the signpost.directory.resources topic to the index and the roster: a
// resource, link worker or network upsert, or a tombstone (null value) that deletes a resource. A
// record it cannot read is INVALID_ARGUMENT (ReadDirectoryRecord's status); Redis failures are the
// cache's (to be retried), and ABORTED when the cache was cleared since the load that began in
// `load_generation` (DirectoryIndex::BeginLoad) did: read the topic again from its beginning.
absl::Status ApplyDirectoryRecord(const kafka::ConsumedMessage& message, DirectoryIndex& cache,
                                  Roster& roster, const std::string& load_generation);

}  // namespace signpost::matching
