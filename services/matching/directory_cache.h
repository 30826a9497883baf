#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"
#include "services/matching/assignment.h"
#include "services/matching/referral_matcher.h"
#include "services/matching/resource_memo.h"
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

  absl::Status PutResource(const v1::Resource& resource);
  absl::Status RemoveResource(const std::string& id);
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
  // A referral to assign within the practice's team in the same round trip, by tiers
  // (AssignmentTiers) worked out from the team as RememberedTeam gave it. When the roster has
  // moved on since `roster_stamp`, nothing is assigned: the Lookup has the current team instead.
  struct AssignIn {
    std::string referral_id;
    std::string roster_stamp;
    std::vector<AssignmentTier> tiers;
  };
  // What matching a referral reads, in one round trip (two when some records changed since
  // they were last read): where the person is (their postcode's point, else their district's, as
  // PostcodeLookup holds them), the candidates near there for each need (remote ones only when
  // neither point is known; the queries' own points are not used) and the referring practice's
  // team with its caseloads before this referral; and, given `assign`, the assignment recorded
  // once as AssignOnce records it.
  struct Lookup {
    PersonLocation location;
    std::vector<std::vector<Found>> candidates;
    Team team;
    struct Assigned {
      std::string worker_id;  // "" for the team queue
      bool earlier = false;   // recorded before (a redelivered event), not by this read
    };
    std::optional<Assigned> assigned;  // none without `assign` or when the roster had moved on
  };
  absl::StatusOr<Lookup> LocateCandidatesAndTeam(const std::string& postcode,
                                                 const std::string& district,
                                                 const std::vector<CandidateQuery>& queries,
                                                 const std::string& practice_ods_code,
                                                 const AssignIn* assign = nullptr);
  struct Locate {
    std::string postcode, district;
    std::vector<CandidateQuery> queries;
    std::string practice_ods_code;
    std::optional<AssignIn> assign;
  };
  // The same for several referrals in one round trip: each read runs after the one before it,
  // as one by one (an assignment sees the caseloads the earlier ones raised). One result each,
  // in order; when the round trip fails, every result carries its error.
  std::vector<absl::StatusOr<Lookup>> LocateCandidatesAndTeamMany(
      const std::vector<Locate>& locates);
  // The team a practice had when this cache last read it (without caseloads), if it has.
  std::optional<Team> RememberedTeam(const std::string& practice_ods_code);

  // Records the assignment of a referral once: the first call raises the worker's caseload and
  // remembers the choice; later calls (a redelivered event) return the first choice unchanged.
  // `worker_id` empty means the network's team queue.
  absl::StatusOr<std::string> AssignOnce(const std::string& referral_id,
                                         const std::string& worker_id);

  // Whom the referral was assigned to (moved with reassignments): a worker id, "" for the team
  // queue, nullopt when matching has assigned it to nobody yet.
  absl::StatusOr<std::optional<std::string>> AssignedWorker(const std::string& referral_id);

  // A case ended: its worker's caseload goes down once, however often this is called (true the
  // first time). Called before the assignment, it keeps the assignment from counting at all.
  absl::StatusOr<bool> ReleaseAssignment(const std::string& referral_id);
  // A case moved to another worker: one down for the old, one up for the new, once (true when
  // something moved). Nothing for a released case.
  absl::StatusOr<bool> MoveAssignment(const std::string& referral_id,
                                      const std::string& to_worker_id);

  // Set after the directory topic has been read to its end; gone after FLUSHALL.
  // Serialises the reservations of one resource across matching instances: a lock with a
  // holder token and an expiry (a crashed holder cannot block it for longer than `ttl`).
  absl::StatusOr<bool> TryLockResource(const std::string& id, const std::string& holder,
                                       absl::Duration ttl);
  absl::Status UnlockResource(const std::string& id, const std::string& holder);
  // The referrals that hold a place at a resource.
  absl::StatusOr<bool> HasReservation(const std::string& id, const std::string& referral_id);
  absl::Status AddReservation(const std::string& id, const std::string& referral_id);

  absl::Status MarkLoaded();
  // Removes every cached directory key unless the cache is complete and of this build's layout,
  // so the rebuild from the topic starts clean (link workers' caseloads and assignments are not
  // cache and stay). Returns how many keys went.
  absl::StatusOr<int> ClearUnlessLoaded();
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

  void Remember(const std::string& practice_ods_code, const Team& team);

  redis::RedisClient& redis_;
  ResourceMemo memo_;
  absl::Mutex teams_mu_;
  absl::flat_hash_map<std::string, Team> teams_ ABSL_GUARDED_BY(teams_mu_);
};

}  // namespace signpost::matching
