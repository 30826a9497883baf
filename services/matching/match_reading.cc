#include "services/matching/match_reading.h"

#include <map>
#include <set>

namespace signpost::matching {

std::vector<std::vector<Candidate>> MatchReading::Candidates() const {
  std::vector<std::vector<Candidate>> out(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    for (const auto& f : found[i]) out[i].push_back({f.resource.get(), f.distance_km, f.remote});
  }
  return out;
}

namespace {

// What to read for one referral.
DirectoryIndex::Locate LocateFor(const std::string& referral_id, const v1::Referral& referral,
                                 const MatchPolicy& policy) {
  const v1::PersonProfile& person = referral.profile();
  DirectoryIndex::Locate locate;
  locate.postcode = person.home_postcode();
  locate.district = person.postcode_district();
  locate.practice_ods_code = referral.referrer().ods_code();
  locate.referral_id = referral_id;
  for (const auto& need : referral.needs()) {
    CandidateQuery q;
    q.need = need.category();
    q.radius_km = policy.RadiusKm(need.category(), person.transport_barrier());
    locate.queries.push_back(q);
  }
  return locate;
}

// Cases the referrals decided before in the same batch will add, per worker.
using Raised = std::map<std::string, int>;

// The reading from what was read, with the assignment decided on the caseloads read plus those
// `raised` by the batch so far (which this one adds to).
MatchReading FromLookup(const std::string& referral_id, const v1::Referral& referral,
                        DirectoryIndex::Lookup read, Raised& raised) {
  MatchReading out;
  if (!read.recorded.empty()) {
    out.recorded = std::move(read.recorded);
    return out;
  }
  out.location = std::move(read.location);
  out.found = std::move(read.candidates);
  DirectoryIndex::Team& team = read.team;
  Roster::MatchToRecord& record = out.to_record;
  record.referral_id = referral_id;
  record.roster_stamp = team.roster_stamp;
  if (read.assigned_earlier) {
    // Assigned by an earlier version of matching, which kept no record of its events: that
    // choice (and its caseload) stands.
    out.assignment.link_worker_id = *read.assigned_earlier;
    out.assignment.network_id = team.network_id;
    out.assignment.reasons = {"assigned earlier"};
    record.worker_id = *read.assigned_earlier;
    record.keeps_earlier = true;
    return out;
  }
  // No network lists the practice: the unrouted queue, with the practice named.
  if (team.network_id.empty()) {
    out.assignment = UnroutedAssignment(referral.referrer().ods_code());
    return out;
  }
  for (auto& [worker, load] : team.caseloads) {
    auto it = raised.find(worker);
    if (it != raised.end()) load += it->second;
  }
  // The rule on the caseloads as they will be before this referral, and why.
  out.assignment =
      AssignLinkWorker(referral.profile(), team.network_id, team.workers, team.caseloads);
  const std::string& worker = out.assignment.link_worker_id;
  record.worker_id = worker;
  if (worker.empty()) return out;
  record.worker_caseload = team.caseloads[worker];
  for (const auto& w : team.workers) {
    if (w.id() == worker) record.worker_cap = w.max_active_cases();
  }
  ++raised[worker];
  return out;
}

}  // namespace

absl::StatusOr<MatchReading> ReadForMatching(DirectoryIndex& directory,
                                             const std::string& referral_id,
                                             const v1::Referral& referral,
                                             const MatchPolicy& policy) {
  return std::move(ReadForMatchingMany(directory, {{&referral_id, &referral}}, policy).front());
}

std::vector<absl::StatusOr<MatchReading>> ReadForMatchingMany(DirectoryIndex& directory,
                                                              const std::vector<ToMatch>& batch,
                                                              const MatchPolicy& policy) {
  std::vector<DirectoryIndex::Locate> locates;
  locates.reserve(batch.size());
  for (const ToMatch& m : batch) locates.push_back(LocateFor(*m.referral_id, *m.referral, policy));
  std::vector<absl::StatusOr<DirectoryIndex::Lookup>> reads =
      directory.LocateCandidatesAndTeamMany(locates);
  std::vector<absl::StatusOr<MatchReading>> out;
  out.reserve(batch.size());
  Raised raised;
  // A referral twice in one batch (a redelivery) is recorded once: the second adds no case.
  std::set<std::string> decided;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!reads[i].ok()) {
      out.push_back(reads[i].status());
      continue;
    }
    Raised unchanged = raised;
    const bool first = decided.insert(*batch[i].referral_id).second;
    out.push_back(FromLookup(*batch[i].referral_id, *batch[i].referral, *std::move(reads[i]),
                             first ? raised : unchanged));
  }
  return out;
}

}  // namespace signpost::matching
