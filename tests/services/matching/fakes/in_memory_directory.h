#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/matching/directory_index.h"
#include "services/matching/place_reservations.h"
#include "services/matching/roster.h"

namespace signpost::matching::testing {

// Unit tests only: the directory index, the roster and the places in process, keeping the same
// promises as DirectoryCache (its Redis implementation) for what handlers rely on: a match is
// recorded once with its assignment and only while the roster and the worker's caseload are as
// read and the worker is under their maximum; a place is taken once per referral and never past
// the last one. Geo search is a scan by DistanceKm. Every call fails with `Fail`'s status while
// one is set (Redis away).
class InMemoryDirectory final : public DirectoryIndex, public Roster, public PlaceReservations {
 public:
  // A postcode (or district) and where it is.
  void SetPostcode(const std::string& code, double latitude, double longitude, int imd_decile = 0);
  // Every later call fails with `status` until it is OK again.
  void Fail(absl::Status status);
  // The match read of one referral fails with `status` (OK: no longer).
  void FailReadOf(const std::string& referral_id, absl::Status status);
  int Caseload(const std::string& worker_id);

  // DirectoryIndex.
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

  // Roster.
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

  // PlaceReservations.
  absl::StatusOr<TakenPlace> TakePlace(const std::string& resource_id,
                                       const std::string& referral_id, absl::Time now) override;

 private:
  std::vector<std::vector<Found>> Search(const std::vector<CandidateQuery>& queries) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> read_failures_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PersonLocation> postcodes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Resource> resources_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, v1::LinkWorker> workers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> practices_ ABSL_GUARDED_BY(mu_);  // ods -> network
  std::map<std::string, int> caseloads_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> assignments_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> released_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> recorded_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> reservations_ ABSL_GUARDED_BY(mu_);
  int roster_stamp_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace signpost::matching::testing
