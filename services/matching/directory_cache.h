#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "services/matching/directory_index.h"
#include "services/matching/place_reservations.h"
#include "services/matching/resource_memo.h"
#include "services/matching/roster.h"

namespace signpost::matching {

// The directory index, the roster with its caseloads, and the places taken, as Redis holds them
// for matching (keys in redis_keys.h; each script a .lua file beside the code that runs it). One
// object for the three concerns because matching's read (LocateCandidatesAndTeamMany) takes the
// index and the team in one round trip, and a place taken is a resource write; its code is split
// by concern: the index here (directory_cache.cc), the roster in directory_cache_roster.cc, the
// places in directory_cache_places.cc. The Kafka directory topic is the source of truth; this is
// its cache.
class DirectoryCache final : public DirectoryIndex, public Roster, public PlaceReservations {
 public:
  // `memo_records`: how many parsed records in use are kept in process (about 1 KB each; at
  // most twice as many are held). The default holds a national directory.
  explicit DirectoryCache(redis::RedisClient& redis, size_t memo_records = 100000)
      : redis_(redis), memo_(memo_records) {}

  // DirectoryIndex (directory_cache.cc).
  absl::Status PutResource(const v1::Resource& resource,
                           const std::string& load_generation = "") override;
  absl::Status RemoveResource(const std::string& id,
                              const std::string& load_generation = "") override;
  absl::StatusOr<std::optional<v1::Resource>> GetResource(const std::string& id) override;
  absl::StatusOr<std::vector<std::vector<Found>>> Candidates(
      const std::vector<CandidateQuery>& queries) override;
  std::vector<absl::StatusOr<Lookup>> LocateCandidatesAndTeamMany(
      const std::vector<Locate>& locates) override;
  absl::StatusOr<int> ClearUnlessLoaded() override;
  absl::StatusOr<std::string> BeginLoad() override;
  absl::Status MarkLoaded(const std::string& load_generation) override;
  absl::StatusOr<bool> IsLoaded() override;

  // Roster (directory_cache_roster.cc).
  absl::Status PutLinkWorker(const v1::LinkWorker& worker) override;
  absl::Status PutNetwork(const v1::Network& network) override;
  std::vector<absl::StatusOr<RecordedMatch>> RecordMatches(
      const std::vector<MatchToRecord>& matches) override;
  absl::StatusOr<std::optional<v1::Event>> RecordedMatchedEvent(
      const std::string& referral_id) override;
  absl::StatusOr<std::optional<std::string>> AssignedWorker(
      const std::string& referral_id) override;
  absl::StatusOr<bool> ReleaseAssignment(const std::string& referral_id) override;
  absl::StatusOr<bool> MoveAssignment(const std::string& referral_id,
                                      const std::string& to_worker_id) override;

  // PlaceReservations (directory_cache_places.cc).
  absl::StatusOr<TakenPlace> TakePlace(const std::string& resource_id,
                                       const std::string& referral_id, absl::Time now) override;

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

  redis::RedisClient& redis_;
  ResourceMemo memo_;
};

}  // namespace signpost::matching
