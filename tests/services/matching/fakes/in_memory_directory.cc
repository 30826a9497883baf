#include "tests/services/matching/fakes/in_memory_directory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/matching/candidate_filter.h"
#include "services/matching/geo_distance.h"

namespace signpost::matching::testing {

void InMemoryDirectory::SetPostcode(const std::string& code, double latitude, double longitude,
                                    int imd_decile) {
  absl::MutexLock lock(&mu_);
  PersonLocation& location = postcodes_[code];
  location.basis = PersonLocation::Basis::kPostcode;
  location.point.set_latitude(latitude);
  location.point.set_longitude(longitude);
  location.imd_decile = imd_decile;
}

void InMemoryDirectory::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  failure_ = std::move(status);
}

void InMemoryDirectory::FailReadOf(const std::string& referral_id, absl::Status status) {
  absl::MutexLock lock(&mu_);
  read_failures_[referral_id] = std::move(status);
}

int InMemoryDirectory::Caseload(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  return caseloads_[worker_id];
}

absl::Status InMemoryDirectory::PutResource(const v1::Resource& resource, const std::string&) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  resources_[resource.id()] = resource;
  return absl::OkStatus();
}

absl::Status InMemoryDirectory::RemoveResource(const std::string& id, const std::string&) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  resources_.erase(id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Resource>> InMemoryDirectory::GetResource(const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = resources_.find(id);
  if (it == resources_.end()) return std::optional<v1::Resource>();
  return std::optional<v1::Resource>(it->second);
}

std::vector<std::vector<Found>> InMemoryDirectory::Search(
    const std::vector<CandidateQuery>& queries) const {
  std::vector<std::vector<Found>> out(queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    const CandidateQuery& query = queries[q];
    std::vector<Found> nearby, remote;
    for (const auto& [id, r] : resources_) {
      if (std::find(r.need_categories().begin(), r.need_categories().end(), query.need) ==
          r.need_categories().end()) {
        continue;
      }
      auto record = std::make_shared<const v1::Resource>(r);
      if (query.point) {
        for (const auto& location : r.locations()) {
          if (location.type() == v1::LOCATION_TYPE_VIRTUAL || !location.has_point()) continue;
          double km = DistanceKm(*query.point, location.point());
          if (km <= query.radius_km) nearby.push_back({record, km, false});
        }
      }
      if (Offers(r, v1::DELIVERY_MODE_ONLINE) || Offers(r, v1::DELIVERY_MODE_PHONE)) {
        remote.push_back({record, 0.0, true});
      }
    }
    std::stable_sort(nearby.begin(), nearby.end(),
                     [](const Found& a, const Found& b) { return a.distance_km < b.distance_km; });
    if (nearby.size() > static_cast<size_t>(query.limit)) nearby.resize(query.limit);
    if (remote.size() > static_cast<size_t>(query.remote_limit)) remote.resize(query.remote_limit);
    out[q] = std::move(nearby);
    out[q].insert(out[q].end(), remote.begin(), remote.end());
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<Found>>> InMemoryDirectory::Candidates(
    const std::vector<CandidateQuery>& queries) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  return Search(queries);
}

std::vector<absl::StatusOr<DirectoryIndex::Lookup>> InMemoryDirectory::LocateCandidatesAndTeamMany(
    const std::vector<Locate>& locates) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::StatusOr<Lookup>> out;
  for (const Locate& l : locates) {
    if (!failure_.ok()) {
      out.push_back(failure_);
      continue;
    }
    if (auto it = read_failures_.find(l.referral_id);
        it != read_failures_.end() && !it->second.ok()) {
      out.push_back(it->second);
      continue;
    }
    Lookup lookup;
    if (auto it = recorded_.find(l.referral_id); it != recorded_.end()) {
      lookup.recorded = it->second;
      out.push_back(std::move(lookup));
      continue;
    }
    for (const std::string& code : {l.postcode, l.district}) {
      auto it = postcodes_.find(code);
      if (it == postcodes_.end()) continue;
      lookup.location = it->second;
      if (code == l.district) lookup.location.basis = PersonLocation::Basis::kDistrict;
      break;
    }
    std::vector<CandidateQuery> queries = l.queries;
    for (CandidateQuery& q : queries) {
      q.point.reset();
      if (lookup.location.basis != PersonLocation::Basis::kNone) q.point = lookup.location.point;
    }
    lookup.candidates = Search(queries);
    if (auto it = practices_.find(l.practice_ods_code); it != practices_.end()) {
      lookup.team.network_id = it->second;
      for (const auto& [id, worker] : workers_) {  // ordered by id
        if (worker.network_id() != it->second) continue;
        lookup.team.workers.push_back(worker);
        lookup.team.caseloads[id] = caseloads_[id];
      }
    }
    lookup.team.roster_stamp = absl::StrCat(roster_stamp_);
    if (auto it = assignments_.find(l.referral_id); it != assignments_.end()) {
      lookup.assigned_earlier = it->second;
    }
    out.push_back(std::move(lookup));
  }
  return out;
}

absl::StatusOr<int> InMemoryDirectory::ClearUnlessLoaded() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (loaded_) return 0;
  int removed = static_cast<int>(resources_.size());
  resources_.clear();
  return removed;
}

absl::StatusOr<std::string> InMemoryDirectory::BeginLoad() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  return std::string("1");
}

absl::Status InMemoryDirectory::MarkLoaded(const std::string&) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemoryDirectory::IsLoaded() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  return loaded_;
}

absl::Status InMemoryDirectory::PutLinkWorker(const v1::LinkWorker& worker) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  workers_[worker.id()] = worker;
  ++roster_stamp_;
  return absl::OkStatus();
}

absl::Status InMemoryDirectory::PutNetwork(const v1::Network& network) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  for (const auto& ods : network.practice_ods_codes()) practices_[ods] = network.id();
  ++roster_stamp_;
  return absl::OkStatus();
}

std::vector<absl::StatusOr<Roster::RecordedMatch>> InMemoryDirectory::RecordMatches(
    const std::vector<MatchToRecord>& matches) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::StatusOr<RecordedMatch>> out;
  for (const MatchToRecord& m : matches) {
    if (!failure_.ok()) {
      out.push_back(failure_);
      continue;
    }
    if (m.referral_id.empty() || m.events.empty()) {
      out.push_back(
          absl::InvalidArgumentError("a match to record needs a referral and its events"));
      continue;
    }
    RecordedMatch result;
    if (auto it = recorded_.find(m.referral_id); it != recorded_.end()) {
      result.state = RecordedMatch::State::kEarlier;
      result.events = it->second;
      out.push_back(std::move(result));
      continue;
    }
    const bool assigned = assignments_.contains(m.referral_id);
    const bool released = released_.contains(m.referral_id);
    if (m.keeps_earlier ? !assigned : assigned || m.roster_stamp != absl::StrCat(roster_stamp_)) {
      out.push_back(std::move(result));  // kStale
      continue;
    }
    if (!m.keeps_earlier) {
      if (!m.worker_id.empty() && !released) {
        int& load = caseloads_[m.worker_id];
        if (load != m.worker_caseload || (m.worker_cap > 0 && load >= m.worker_cap)) {
          out.push_back(std::move(result));  // kStale
          continue;
        }
        ++load;
      }
      assignments_[m.referral_id] = m.worker_id;
    }
    recorded_[m.referral_id] = m.events;
    result.state = RecordedMatch::State::kRecorded;
    result.events = m.events;
    out.push_back(std::move(result));
  }
  return out;
}

absl::StatusOr<std::optional<v1::Event>> InMemoryDirectory::RecordedMatchedEvent(
    const std::string& referral_id) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = recorded_.find(referral_id);
  if (it == recorded_.end() || it->second.empty()) return std::optional<v1::Event>();
  v1::Event event;
  if (!event.ParseFromString(it->second.front()) || !event.has_referral_matched()) {
    return absl::DataLossError("the recorded match is not a matched event");
  }
  return std::optional<v1::Event>(std::move(event));
}

absl::StatusOr<std::optional<std::string>> InMemoryDirectory::AssignedWorker(
    const std::string& referral_id) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = assignments_.find(referral_id);
  if (it == assignments_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::StatusOr<bool> InMemoryDirectory::ReleaseAssignment(const std::string& referral_id) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (!released_.insert(referral_id).second) return false;
  auto it = assignments_.find(referral_id);
  if (it != assignments_.end() && !it->second.empty() && caseloads_[it->second] > 0) {
    --caseloads_[it->second];
  }
  return true;
}

absl::StatusOr<bool> InMemoryDirectory::MoveAssignment(const std::string& referral_id,
                                                       const std::string& to_worker_id) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (released_.contains(referral_id)) return false;
  auto it = assignments_.find(referral_id);
  if (it != assignments_.end() && it->second == to_worker_id) return false;
  if (it != assignments_.end() && !it->second.empty() && caseloads_[it->second] > 0) {
    --caseloads_[it->second];
  }
  assignments_[referral_id] = to_worker_id;
  ++caseloads_[to_worker_id];
  return true;
}

absl::StatusOr<PlaceReservations::TakenPlace> InMemoryDirectory::TakePlace(
    const std::string& resource_id, const std::string& referral_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  auto it = resources_.find(resource_id);
  if (it == resources_.end()) {
    return absl::NotFoundError(absl::StrCat("no resource '", resource_id, "'"));
  }
  TakenPlace out;
  if (reservations_[resource_id].contains(referral_id)) {
    out.resource = it->second;
    out.earlier = true;
    return out;
  }
  v1::Capacity* capacity = it->second.mutable_capacity();
  if (capacity->places_available() <= 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no place left at ", it->second.name(), " (", resource_id, ")"));
  }
  capacity->set_places_available(capacity->places_available() - 1);
  capacity->mutable_updated_at()->set_seconds(absl::ToUnixSeconds(now));
  reservations_[resource_id].insert(referral_id);
  out.resource = it->second;
  return out;
}

}  // namespace signpost::matching::testing
