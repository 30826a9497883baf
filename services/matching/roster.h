#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/link_worker.pb.h"

namespace signpost::matching {

// The roster and the caseloads: link workers, the networks serving practices, whom each referral
// is assigned to and how many open cases each worker has, with each referral's match as first
// recorded. Not cache: a rebuild of the directory keeps it. DirectoryCache is the Redis
// implementation; tests/services/matching/fakes holds an in-memory one.
class Roster {
 public:
  virtual ~Roster() = default;

  virtual absl::Status PutLinkWorker(const v1::LinkWorker& worker) = 0;
  virtual absl::Status PutNetwork(const v1::Network& network) = 0;

  // A referral's match, decided on a DirectoryIndex::Lookup, to record once with its assignment.
  struct MatchToRecord {
    std::string referral_id;
    std::string roster_stamp;  // the roster the decision read
    std::string worker_id;     // "" for a team queue
    int worker_caseload = 0;   // the worker's caseload the decision read (this referral not in it)
    int worker_cap = 0;        // the worker's maximum active cases; 0: no maximum
    bool keeps_earlier = false;  // assigned earlier (Lookup::assigned_earlier): nothing to raise
    std::vector<std::string> events;  // serialized, in the order they are published
  };
  struct RecordedMatch {
    enum class State {
      kRecorded,  // recorded now: publish `events` as given
      kEarlier,   // recorded before (a redelivery, or another instance first): `events` are those
      kStale,     // what the decision read has moved on: read again and decide again
    };
    State state = State::kStale;
    std::vector<std::string> events;
  };
  // Records each match once, atomically with its assignment, where the caseloads are: the
  // referral's events, its assignment, and one more case on its worker's caseload, unless the
  // roster or that worker's caseload is no longer what the decision read, or the worker has
  // reached their maximum (kStale: nothing is written). A referral already recorded gets its
  // first record back (kEarlier). In one round trip, in order: each sees the ones before it.
  virtual std::vector<absl::StatusOr<RecordedMatch>> RecordMatches(
      const std::vector<MatchToRecord>& matches) = 0;

  // The matched event first recorded for a referral (RecordMatches), nullopt when there is none.
  virtual absl::StatusOr<std::optional<v1::Event>> RecordedMatchedEvent(
      const std::string& referral_id) = 0;

  // Whom the referral was assigned to (moved with reassignments): a worker id, "" for the team
  // queue, nullopt when matching has assigned it to nobody yet.
  virtual absl::StatusOr<std::optional<std::string>> AssignedWorker(
      const std::string& referral_id) = 0;

  // A case ended: its worker's caseload goes down once, however often this is called (true the
  // first time). Called before the assignment, it keeps the assignment from counting at all.
  // The referral's recorded match is kept for kRecordedMatchRetention after either.
  virtual absl::StatusOr<bool> ReleaseAssignment(const std::string& referral_id) = 0;
  // A case moved to another worker: one down for the old, one up for the new, once (true when
  // something moved). Nothing for a released case.
  virtual absl::StatusOr<bool> MoveAssignment(const std::string& referral_id,
                                              const std::string& to_worker_id) = 0;
};

// How long a referral's recorded match (its events, for redeliveries, and its options, for
// reservations) is kept after its case ended: longer than any redelivery of its received event
// takes, while the record of an open case is kept as long as the case.
inline constexpr absl::Duration kRecordedMatchRetention = absl::Hours(24 * 7);

}  // namespace signpost::matching
