#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "services/matching/assignment.h"
#include "services/matching/referral_matcher.h"
#include "services/matching/resource_memo.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/link_worker.pb.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// A resource found near a point (or delivered remotely) for one need.
struct Found {
  std::shared_ptr<const v1::Resource> resource;
  double distance_km = 0.0;
  bool remote = false;
};

struct CandidateQuery {
  v1::NeedCategory need;
  std::optional<v1::GeoPoint> point;  // none: remote resources only
  double radius_km = 5.0;
  int limit = 200;        // nearest in-person candidates
  int remote_limit = 50;  // best remote candidates
};

// The directory and roster as Redis holds them for matching: per resource its record, a geo
// index of its physical locations per need category, a set of remotely delivered resources per
// category; per link worker and network their records, the practice-to-network index and the
// caseloads. The Kafka directory topic is the source of truth; this is its cache.
class DirectoryCache {
 public:
  // `memo_records`: how many parsed records in use are kept in process (about 1 KB each; at
  // most twice as many are held). The default holds a national directory.
  explicit DirectoryCache(redis::RedisClient& redis, size_t memo_records = 100000)
      : redis_(redis), memo_(memo_records) {}

  // Resource writes. A load of the topic writes with the generation it began in (BeginLoad);
  // other writes (the directory service's) with none. ABORTED when the cache was cleared since
  // the load began (read the topic again from its beginning), UNAVAILABLE while it is cleared.
  absl::Status PutResource(const v1::Resource& resource, const std::string& load_generation = "");
  absl::Status RemoveResource(const std::string& id, const std::string& load_generation = "");
  absl::StatusOr<std::optional<v1::Resource>> GetResource(const std::string& id);
  absl::Status PutLinkWorker(const v1::LinkWorker& worker);
  absl::Status PutNetwork(const v1::Network& network);

  // Candidates for several needs in one round trip (two when some records changed since they
  // were last read); one list per query, in query order.
  absl::StatusOr<std::vector<std::vector<Found>>> Candidates(
      const std::vector<CandidateQuery>& queries);

  // The network serving a practice ("" when none) and its link workers with their caseloads, as
  // the roster stood at `roster_stamp`.
  struct Team {
    std::string network_id;
    std::vector<v1::LinkWorker> workers;
    std::map<std::string, int> caseloads;
    std::string roster_stamp;
  };
  // What matching a referral reads, in one round trip (two when some records changed since
  // they were last read): where the person is (their postcode's point, else their district's, as
  // PostcodeLookup holds them), the candidates near there for each need (remote ones only when
  // neither point is known; the queries' own points are not used) and the referring practice's
  // team with its caseloads; or, for a referral matched before, only what was recorded then.
  struct Lookup {
    PersonLocation location;
    std::vector<std::vector<Found>> candidates;
    Team team;
    // The referral's events as RecordMatches first recorded them, to publish again as they were;
    // empty when it has none (nothing else above is read when it has).
    std::vector<std::string> recorded;
    // Whom an earlier version of matching assigned the referral to without recording its events
    // (a worker id, "" for a team queue): that assignment stands.
    std::optional<std::string> assigned_earlier;
  };
  absl::StatusOr<Lookup> LocateCandidatesAndTeam(const std::string& postcode,
                                                 const std::string& district,
                                                 const std::vector<CandidateQuery>& queries,
                                                 const std::string& practice_ods_code,
                                                 const std::string& referral_id = "");
  struct Locate {
    std::string postcode, district;
    std::vector<CandidateQuery> queries;
    std::string practice_ods_code;
    std::string referral_id;
  };
  // The same for several referrals in one round trip. One result each, in order; when the round
  // trip fails, every result carries its error.
  std::vector<absl::StatusOr<Lookup>> LocateCandidatesAndTeamMany(
      const std::vector<Locate>& locates);

  // A referral's match, decided on a Lookup, to record once with its assignment.
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
  std::vector<absl::StatusOr<RecordedMatch>> RecordMatches(
      const std::vector<MatchToRecord>& matches);

  // The matched event first recorded for a referral (RecordMatches), nullopt when there is none.
  absl::StatusOr<std::optional<v1::Event>> RecordedMatchedEvent(const std::string& referral_id);

  // Whom the referral was assigned to (moved with reassignments): a worker id, "" for the team
  // queue, nullopt when matching has assigned it to nobody yet.
  absl::StatusOr<std::optional<std::string>> AssignedWorker(const std::string& referral_id);

  // A case ended: its worker's caseload goes down once, however often this is called (true the
  // first time). Called before the assignment, it keeps the assignment from counting at all.
  // The referral's recorded match is kept for kRecordedMatchRetention after either.
  absl::StatusOr<bool> ReleaseAssignment(const std::string& referral_id);
  // A case moved to another worker: one down for the old, one up for the new, once (true when
  // something moved). Nothing for a released case.
  absl::StatusOr<bool> MoveAssignment(const std::string& referral_id,
                                      const std::string& to_worker_id);

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
  absl::StatusOr<TakenPlace> TakePlace(const std::string& resource_id,
                                       const std::string& referral_id, absl::Time now);

  // Building the cache from the topic, by any number of instances at once. Each instance, as
  // it starts, calls ClearUnlessLoaded; each full read of the topic then begins with BeginLoad,
  // writes with the generation that returned, and ends with MarkLoaded. A clear first moves the
  // cache to a new generation in one step, so a load begun before it is refused from then on
  // (ABORTED: read the topic again, from a new BeginLoad), and nothing is written until one of
  // the instances clearing has gone through every key (other writes are UNAVAILABLE until then).
  // A clear left unfinished (its instance stopped) is finished by the next BeginLoad.

  // Removes every cached directory key unless the cache is complete and of this build's layout,
  // so the rebuild from the topic starts clean (link workers' caseloads and assignments are not
  // cache and stay). Returns how many keys went (this instance removed).
  absl::StatusOr<int> ClearUnlessLoaded();
  // The cache generation a full read of the topic writes under, after finishing any clear under
  // way.
  absl::StatusOr<std::string> BeginLoad();
  // Marks the cache complete after the topic has been read to its end under `load_generation`;
  // ABORTED when the cache was cleared since that load began. The mark is gone after FLUSHALL or
  // a clear.
  absl::Status MarkLoaded(const std::string& load_generation);
  absl::StatusOr<bool> IsLoaded();

 private:
  // A query's hits as the indexes returned them: index members, nearest first from `from` (none
  // without a point), then the best remote ones. Views into the replies.
  struct Hits {
    std::optional<v1::GeoPoint> from;
    std::vector<absl::string_view> nearby;
    std::vector<absl::string_view> remote;
  };
  // The hits as records, from the memo or fetched.
  absl::StatusOr<std::vector<std::vector<Found>>> Collect(const std::vector<Hits>& hits);
  absl::StatusOr<Lookup> ParseLookup(const redis::Reply& reply, const Locate& locate);
  // Goes through every cached directory key, removing it, while the clear named `clear` is under
  // way; ends the clear unless another instance did. Adds to `removed` how many went.
  absl::Status FinishClear(const std::string& clear, int& removed);
  // The arguments that write a resource and its index entries (ReplaceScript's).
  static std::vector<std::string> ReplaceArgs(const v1::Resource& r);

  redis::RedisClient& redis_;
  ResourceMemo memo_;
};

// How long a referral's recorded match (its events, for redeliveries, and its options, for
// reservations) is kept after its case ended: longer than any redelivery of its received event
// takes, while the record of an open case is kept as long as the case.
inline constexpr absl::Duration kRecordedMatchRetention = absl::Hours(24 * 7);

}  // namespace signpost::matching
