#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/message.h"
#include "services/matching/directory_index.h"
#include "services/matching/match_policy.h"
#include "services/matching/match_reading.h"
#include "services/matching/roster.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

// The events of one referral's match (sealed, in publishing order), built from its reading: the
// `index`th of the batch.
using BuildMatchEvents =
    std::function<std::vector<v1::Event>(size_t index, const MatchReading& read)>;

// Matches each received referral of `batch` once: reads and decides (ReadForMatchingMany), builds
// its events and records them with its assignment in one atomic step where the caseloads are
// (Roster::RecordMatches). Per referral, in order, its events serialized as first
// recorded: the ones built now for a first match, else the ones recorded before (a redelivery, or
// another instance that matched it first), so an event id names one content whenever it is
// published. A decision that went stale before it was recorded (another matcher gave the worker a
// case meanwhile, the roster moved) is read and made again, a few times; then ABORTED, to retry.
std::vector<absl::StatusOr<std::vector<std::string>>> MatchOnce(DirectoryIndex& directory,
                                                                Roster& roster,
                                                                const std::vector<ToMatch>& batch,
                                                                const MatchPolicy& policy,
                                                                const BuildMatchEvents& build);

// The message that publishes a recorded event as it is (the same bytes) on its topic, keyed by
// the referral. DATA_LOSS when the bytes are not a matched or unmet-need event.
absl::StatusOr<kafka::OutgoingMessage> RecordedEventMessage(const std::string& event,
                                                            const std::string& referral_id,
                                                            const std::string& topic_prefix);

}  // namespace signpost::matching
