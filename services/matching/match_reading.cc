#include "services/matching/match_reading.h"

#include <spdlog/spdlog.h>

namespace signpost::matching {

std::vector<std::vector<Candidate>> MatchReading::Candidates() const {
  std::vector<std::vector<Candidate>> out(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    for (const auto& f : found[i]) out[i].push_back({f.resource.get(), f.distance_km, f.remote});
  }
  return out;
}

absl::StatusOr<MatchReading> ReadForMatching(DirectoryCache& directory,
                                             const std::string& referral_id,
                                             const v1::Referral& referral,
                                             const MatchPolicy& policy) {
  const v1::PersonProfile& person = referral.profile();
  const std::string& practice = referral.referrer().ods_code();
  std::vector<CandidateQuery> queries;
  for (const auto& need : referral.needs()) {
    CandidateQuery q;
    q.need = need.category();
    q.radius_km = policy.RadiusKm(need.category(), person.transport_barrier());
    queries.push_back(q);
  }
  std::optional<DirectoryCache::AssignIn> assign;
  if (auto team = directory.RememberedTeam(practice); team && !team->network_id.empty()) {
    assign = DirectoryCache::AssignIn{referral_id, team->roster_stamp,
                                      AssignmentTiers(person, team->network_id, team->workers)};
  }
  auto read = directory.LocateCandidatesAndTeam(person.home_postcode(), person.postcode_district(),
                                                queries, practice, assign ? &*assign : nullptr);
  if (!read.ok()) return read.status();

  MatchReading out;
  out.location = std::move(read->location);
  out.found = std::move(read->candidates);
  const DirectoryCache::Team& team = read->team;
  // The rule on the caseloads as they were before this referral: the choice made in the read, and
  // why.
  out.assignment = AssignLinkWorker(person, team.network_id, team.workers, team.caseloads);
  if (team.network_id.empty()) return out;
  std::optional<DirectoryCache::Lookup::Assigned> assigned = read->assigned;
  if (!assigned) {  // the team was not known as it stands: assign now
    auto recorded = directory.AssignOnce(referral_id, out.assignment.link_worker_id);
    if (!recorded.ok()) return recorded.status();
    assigned = {*recorded, *recorded != out.assignment.link_worker_id};
  }
  if (assigned->worker_id == out.assignment.link_worker_id) return out;
  if (assigned->earlier) {
    // A redelivered event: keep the first decision (and its caseload), not a new one.
    out.assignment.link_worker_id = assigned->worker_id;
    out.assignment.reasons = {"assigned earlier"};
  } else {
    // The rule in Redis and AssignLinkWorker disagree: a bug, but the recorded choice stands.
    spdlog::error("assignment rule mismatch for a referral: Redis chose '{}', the rule '{}'",
                  assigned->worker_id, out.assignment.link_worker_id);
    out.assignment.link_worker_id = assigned->worker_id;
    out.assignment.reasons = {"lowest open caseload"};
  }
  return out;
}

}  // namespace signpost::matching
