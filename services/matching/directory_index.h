#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/matching/referral_matcher.h"
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

// The directory as matching searches it: the resources with their geo and remote indexes per
// need category, the postcodes, and the read that matching a referral makes. Built from the
// directory topic (the source of truth) by any number of instances at once. DirectoryCache is
// the Redis implementation; tests/services/matching/fakes holds an in-memory one.
class DirectoryIndex {
 public:
  virtual ~DirectoryIndex() = default;

  // Resource writes. A load of the topic writes with the generation it began in (BeginLoad);
  // other writes (the directory service's) with none. ABORTED when the cache was cleared since
  // the load began (read the topic again from its beginning), UNAVAILABLE while it is cleared.
  virtual absl::Status PutResource(const v1::Resource& resource,
                                   const std::string& load_generation = "") = 0;
  virtual absl::Status RemoveResource(const std::string& id,
                                      const std::string& load_generation = "") = 0;
  virtual absl::StatusOr<std::optional<v1::Resource>> GetResource(const std::string& id) = 0;

  // Candidates for several needs in one round trip (two when some records changed since they
  // were last read); one list per query, in query order.
  virtual absl::StatusOr<std::vector<std::vector<Found>>> Candidates(
      const std::vector<CandidateQuery>& queries) = 0;

  // The network serving a practice ("" when none) and its link workers with their caseloads, as
  // the roster stood at `roster_stamp`.
  struct Team {
    std::string network_id;
    std::vector<v1::LinkWorker> workers;  // ordered by id
    std::map<std::string, int> caseloads;
    std::string roster_stamp;
  };
  // What matching a referral reads, in one round trip (two when some records changed since
  // they were last read): where the person is (their postcode's point, else their district's, as
  // PostcodeLookup holds them), the candidates near there for each need (remote ones only when
  // neither point is known; the queries' own points are not used) and the referring practice's
  // team with its caseloads; or, for a referral matched before, only what was recorded then.
  // Nothing is decided here: the link worker is chosen in C++ (AssignLinkWorker) and recorded
  // with Roster::RecordMatches only while what it was decided on stands.
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
  struct Locate {
    std::string postcode, district;
    std::vector<CandidateQuery> queries;
    std::string practice_ods_code;
    std::string referral_id;
  };
  // The read for several referrals in one round trip. One result each, in order; when the round
  // trip fails, every result carries its error.
  virtual std::vector<absl::StatusOr<Lookup>> LocateCandidatesAndTeamMany(
      const std::vector<Locate>& locates) = 0;
  absl::StatusOr<Lookup> LocateCandidatesAndTeam(const std::string& postcode,
                                                 const std::string& district,
                                                 const std::vector<CandidateQuery>& queries,
                                                 const std::string& practice_ods_code,
                                                 const std::string& referral_id = "") {
    std::vector<Locate> one(1);
    one[0] = {postcode, district, queries, practice_ods_code, referral_id};
    return std::move(LocateCandidatesAndTeamMany(one).front());
  }

  // Building the index from the topic, by any number of instances at once. Each instance, as
  // it starts, calls ClearUnlessLoaded; each full read of the topic then begins with BeginLoad,
  // writes with the generation that returned, and ends with MarkLoaded. A clear first moves the
  // cache to a new generation in one step, so a load begun before it is refused from then on
  // (ABORTED: read the topic again, from a new BeginLoad), and nothing is written until one of
  // the instances clearing has gone through every key (other writes are UNAVAILABLE until then).
  // A clear left unfinished (its instance stopped) is finished by the next BeginLoad.

  // Removes every cached directory entry unless the cache is complete and of this build's
  // layout, so the rebuild from the topic starts clean (link workers' caseloads and assignments
  // are not cache and stay). Returns how many keys went (this instance removed).
  virtual absl::StatusOr<int> ClearUnlessLoaded() = 0;
  // The cache generation a full read of the topic writes under, after finishing any clear under
  // way.
  virtual absl::StatusOr<std::string> BeginLoad() = 0;
  // Marks the cache complete after the topic has been read to its end under `load_generation`;
  // ABORTED when the cache was cleared since that load began. The mark is gone after FLUSHALL or
  // a clear.
  virtual absl::Status MarkLoaded(const std::string& load_generation) = 0;
  virtual absl::StatusOr<bool> IsLoaded() = 0;
};

}  // namespace signpost::matching
