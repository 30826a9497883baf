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

namespace {

// What to read for one referral; with the assignment when the practice's team is known.
DirectoryCache::Locate LocateFor(DirectoryCache& directory, const std::string& referral_id,
                                 const v1::Referral& referral, const MatchPolicy& policy) {
  const v1::PersonProfile& person = referral.profile();
  DirectoryCache::Locate locate;
  locate.postcode = person.home_postcode();
  locate.district = person.postcode_district();
  locate.practice_ods_code = referral.referrer().ods_code();
  for (const auto& need : referral.needs()) {
    CandidateQuery q;
    q.need = need.category();
    q.radius_km = policy.RadiusKm(need.category(), person.transport_barrier());
    locate.queries.push_back(q);
  }
  if (auto team = directory.RememberedTeam(locate.practice_ods_code);
      team && !team->network_id.empty()) {
    locate.assign = DirectoryCache::AssignIn{
        referral_id, team->roster_stamp, AssignmentTiers(person, team->network_id, team->workers)};
  }
  return locate;
}

// The reading from what was read: the assignment made in the read, or made now when the read
// could not (the team was not known as it stands).
absl::StatusOr<MatchReading> FromLookup(DirectoryCache& directory, const std::string& referral_id,
                                        const v1::Referral& referral, DirectoryCache::Lookup read) {
  const v1::PersonProfile& person = referral.profile();
  MatchReading out;
  out.location = std::move(read.location);
  out.found = std::move(read.candidates);
  const DirectoryCache::Team& team = read.team;
  // No network lists the practice: the unrouted queue, with the practice named.
  if (team.network_id.empty()) {
    out.assignment = UnroutedAssignment(referral.referrer().ods_code());
    return out;
  }
  // The rule on the caseloads as they were before this referral: the choice made in the read, and
  // why.
  out.assignment = AssignLinkWorker(person, team.network_id, team.workers, team.caseloads);
  std::optional<DirectoryCache::Lookup::Assigned> assigned = read.assigned;
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

}  // namespace

absl::StatusOr<MatchReading> ReadForMatching(DirectoryCache& directory,
                                             const std::string& referral_id,
                                             const v1::Referral& referral,
                                             const MatchPolicy& policy) {
  DirectoryCache::Locate locate = LocateFor(directory, referral_id, referral, policy);
  auto read = directory.LocateCandidatesAndTeam(locate.postcode, locate.district, locate.queries,
                                                locate.practice_ods_code,
                                                locate.assign ? &*locate.assign : nullptr);
  if (!read.ok()) return read.status();
  return FromLookup(directory, referral_id, referral, *std::move(read));
}

std::vector<absl::StatusOr<MatchReading>> ReadForMatchingMany(DirectoryCache& directory,
                                                              const std::vector<ToMatch>& batch,
                                                              const MatchPolicy& policy) {
  std::vector<absl::StatusOr<MatchReading>> out;
  out.reserve(batch.size());
  size_t i = 0;
  while (i < batch.size()) {
    // A run of referrals whose assignment can be made in the read.
    std::vector<DirectoryCache::Locate> run;
    // A run keeps to one roster stamp: a read made with a later one than an earlier read's
    // (another practice's team was read after a roster change) would assign before the earlier
    // one is redone, out of order.
    for (size_t j = i; j < batch.size(); ++j) {
      DirectoryCache::Locate locate =
          LocateFor(directory, *batch[j].referral_id, *batch[j].referral, policy);
      if (!locate.assign) break;
      if (!run.empty() && locate.assign->roster_stamp != run.front().assign->roster_stamp) break;
      run.push_back(std::move(locate));
    }
    if (run.empty()) {
      out.push_back(ReadForMatching(directory, *batch[i].referral_id, *batch[i].referral, policy));
      ++i;
      continue;
    }
    std::vector<absl::StatusOr<DirectoryCache::Lookup>> reads =
        directory.LocateCandidatesAndTeamMany(run);
    for (auto& read : reads) {
      const ToMatch& m = batch[i++];
      if (!read.ok()) {
        out.push_back(read.status());
      } else if (!read->assigned && !read->team.network_id.empty()) {
        // The roster moved on since the team was remembered: read again, one by one, so each
        // assignment sees the one before it.
        out.push_back(ReadForMatching(directory, *m.referral_id, *m.referral, policy));
      } else {
        out.push_back(FromLookup(directory, *m.referral_id, *m.referral, *std::move(read)));
      }
    }
  }
  return out;
}

}  // namespace signpost::matching
