#include "services/monitor/provision.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

#include "common/events/case_states.h"
#include "common/events/timestamp.h"
#include "services/monitor/imd_quintile.h"

namespace signpost::monitor {
namespace {

constexpr const char kLinkWorkerKey[] = "link-worker:";
constexpr const char kNetworkKey[] = "network:";

// Quintile 1..5 of a decile, 0 when unknown.
int QuintileIndex(int decile) { return decile >= 1 && decile <= 10 ? (decile + 1) / 2 : 0; }

// What an area adds up to while the view is made.
struct Tally {
  int64_t referrals = 0;
  double caseload_room = 0;
  std::set<std::string> link_workers;
  int64_t resources = 0, places = 0, places_available = 0, unmet = 0;
  std::vector<double> days_to_first_contact;
};

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

v1::ProvisionRow RowOf(const std::string& area, const Tally& t, int suppress_below) {
  v1::ProvisionRow row;
  row.set_area(area);
  row.set_caseload_room(t.caseload_room);
  row.set_link_workers(static_cast<int64_t>(t.link_workers.size()));
  row.set_resources(t.resources);
  row.set_resource_places(t.places);
  row.set_resource_places_available(t.places_available);
  row.set_unmet_needs(t.unmet);
  if (t.referrals > 0 && t.referrals < suppress_below) {
    row.set_suppressed(true);
    return row;
  }
  row.set_referrals(t.referrals);
  if (auto median = Median(t.days_to_first_contact)) row.set_median_days_to_first_contact(*median);
  if (t.referrals > 0) {
    row.set_resource_places_per_referral(static_cast<double>(t.places) / t.referrals);
    row.set_caseload_room_per_referral(t.caseload_room / t.referrals);
  }
  return row;
}

}  // namespace

ProvisionBook::ProvisionBook(ProvisionOptions options) : options_(options) {}

void ProvisionBook::SetPostcodes(const std::vector<geo::PostcodeRow>& rows) {
  absl::MutexLock lock(&mu_);
  decile_of_postcode_.clear();
  district_postcodes_.clear();
  for (const geo::PostcodeRow& row : rows) {
    if (row.code.find(' ') == std::string::npos) continue;  // a district's centre, not a place
    decile_of_postcode_[row.code] = row.imd_decile;
    ++district_postcodes_[geo::PostcodeDistrict(row.code)][QuintileIndex(row.imd_decile)];
  }
}

ProvisionBook::Referral& ProvisionBook::ReferralOf(const std::string& id) {
  auto [it, fresh] = referrals_.try_emplace(id);
  if (fresh) {
    referral_order_.push_back(id);
    if (referral_order_.size() > options_.referrals) {
      referrals_.erase(referral_order_.front());
      referral_order_.pop_front();
    }
  }
  return referrals_.find(id)->second;  // `it` may have moved on a rehash by the erase
}

ProvisionBook::Case& ProvisionBook::CaseOf(const std::string& id) {
  auto [it, fresh] = cases_.try_emplace(id);
  if (fresh) {
    case_order_.push_back(id);
    if (case_order_.size() > options_.referrals) {
      cases_.erase(case_order_.front());
      case_order_.pop_front();
    }
  }
  return cases_.find(id)->second;
}

void ProvisionBook::Observe(const v1::Event& event) {
  const std::string& rid = event.envelope().referral_id();
  absl::Time at = events::FromTimestamp(event.envelope().occurred_at());
  absl::MutexLock lock(&mu_);
  if (event.has_resource_upserted()) {
    const v1::Resource& r = event.resource_upserted().resource();
    if (r.status() != v1::RESOURCE_STATUS_ACTIVE && r.status() != v1::RESOURCE_STATUS_UNSPECIFIED) {
      resources_.erase(r.id());
      return;
    }
    Place place;
    for (const auto& location : r.locations()) {
      if (!location.postcode().empty()) {
        place.postcode = absl::AsciiStrToUpper(location.postcode());
        break;
      }
    }
    place.total = std::max(0, r.capacity().places_total());
    place.available = std::max(0, r.capacity().places_available());
    resources_[r.id()] = std::move(place);
    return;
  }
  if (event.has_link_worker_upserted()) {
    const v1::LinkWorker& w = event.link_worker_upserted().link_worker();
    workers_[w.id()] = Worker{w.network_id(),
                              {w.postcode_districts().begin(), w.postcode_districts().end()},
                              w.max_active_cases(),
                              w.available()};
    return;
  }
  if (event.has_network_upserted()) {
    const v1::Network& n = event.network_upserted().network();
    network_districts_[n.id()] = {n.postcode_districts().begin(), n.postcode_districts().end()};
    return;
  }
  if (event.has_need_unmet()) {
    const v1::NeedUnmet& unmet = event.need_unmet();
    ++unmet_by_quintile_[QuintileIndex(unmet.imd_decile())];
    if (!unmet.postcode_district().empty()) {
      ++unmet_by_district_[geo::PostcodeDistrict(unmet.postcode_district())];
    }
    return;
  }
  if (rid.empty()) return;
  if (event.has_referral_matched()) {
    const v1::ReferralMatched& m = event.referral_matched();
    Referral& referral = ReferralOf(rid);
    if (!referral.matched) {
      const v1::PersonProfile& p = m.referral().profile();
      referral.matched = true;
      referral.decile = p.imd_decile();
      referral.district = geo::PostcodeDistrict(
          !p.postcode_district().empty() ? p.postcode_district() : p.home_postcode());
      referral.matched_at = at;
    }
    // The case may have been read first (each topic is read on its own): it says more.
    if (!m.link_worker_id().empty() && !cases_.count(rid))
      CaseOf(rid).link_worker = m.link_worker_id();
    return;
  }
  if (event.has_case_event()) {
    const v1::CaseEvent& c = event.case_event();
    if (c.contact_result() == v1::CONTACT_RESULT_REACHED) {
      Referral& referral = ReferralOf(rid);
      if (referral.first_contact == absl::InfinitePast()) referral.first_contact = at;
    }
    Case& open = CaseOf(rid);
    if (events::IsCaseEnded(c.to_state())) {
      open.link_worker.clear();
    } else if (!c.reassigned_to().empty()) {
      open.link_worker = c.reassigned_to();
    } else if (c.to_state() != v1::CASE_STATE_UNSPECIFIED) {
      open.link_worker = c.link_worker_id();
    }
  }
}

void ProvisionBook::Forget(const std::string& directory_key) {
  absl::MutexLock lock(&mu_);
  if (absl::StartsWith(directory_key, kLinkWorkerKey)) {
    workers_.erase(directory_key.substr(sizeof(kLinkWorkerKey) - 1));
  } else if (absl::StartsWith(directory_key, kNetworkKey)) {
    network_districts_.erase(directory_key.substr(sizeof(kNetworkKey) - 1));
  } else {
    resources_.erase(directory_key);
  }
}

v1::Provision ProvisionBook::Provision() const {
  absl::MutexLock lock(&mu_);
  std::array<Tally, 6> quintiles;  // 0: unknown
  std::map<std::string, Tally> districts;

  for (const auto& [id, place] : resources_) {
    auto decile = decile_of_postcode_.find(place.postcode);
    for (Tally* t :
         {&quintiles[decile == decile_of_postcode_.end() ? 0 : QuintileIndex(decile->second)],
          place.postcode.empty() ? nullptr : &districts[geo::PostcodeDistrict(place.postcode)]}) {
      if (t == nullptr) continue;
      ++t->resources;
      t->places += place.total;
      t->places_available += place.available;
    }
  }

  std::map<std::string, int> open_cases;
  for (const auto& [id, c] : cases_) {
    if (!c.link_worker.empty()) ++open_cases[c.link_worker];
  }
  for (const auto& [id, worker] : workers_) {
    double room = 0;
    if (worker.available) {
      auto open = open_cases.find(id);
      room = std::max(0, worker.max_active_cases - (open == open_cases.end() ? 0 : open->second));
    }
    std::vector<std::string> covered = worker.districts;
    if (covered.empty()) {
      if (auto n = network_districts_.find(worker.network); n != network_districts_.end()) {
        covered = n->second;
      }
    }
    if (covered.empty()) {
      quintiles[0].caseload_room += room;
      quintiles[0].link_workers.insert(id);
      continue;
    }
    const double share = room / covered.size();
    for (const std::string& code : covered) {
      const std::string district = geo::PostcodeDistrict(code);
      Tally& d = districts[district];
      d.caseload_room += share;
      d.link_workers.insert(id);
      auto postcodes = district_postcodes_.find(district);
      int64_t known = 0;
      if (postcodes != district_postcodes_.end()) {
        for (int64_t n : postcodes->second) known += n;
      }
      if (known == 0) {
        quintiles[0].caseload_room += share;
        quintiles[0].link_workers.insert(id);
        continue;
      }
      for (int q = 0; q < 6; ++q) {
        if (postcodes->second[q] == 0) continue;
        quintiles[q].caseload_room += share * postcodes->second[q] / known;
        quintiles[q].link_workers.insert(id);
      }
    }
  }

  for (const auto& [id, referral] : referrals_) {
    if (!referral.matched) continue;
    std::optional<double> days;
    if (referral.first_contact != absl::InfinitePast()) {
      days = std::max(0.0, absl::ToDoubleHours(referral.first_contact - referral.matched_at) / 24);
    }
    for (Tally* t : {&quintiles[QuintileIndex(referral.decile)],
                     referral.district.empty() ? nullptr : &districts[referral.district]}) {
      if (t == nullptr) continue;
      ++t->referrals;
      if (days) t->days_to_first_contact.push_back(*days);
    }
  }

  for (int q = 0; q < 6; ++q) quintiles[q].unmet += unmet_by_quintile_[q];
  for (const auto& [district, unmet] : unmet_by_district_) districts[district].unmet += unmet;

  v1::Provision view;
  view.set_suppress_below(options_.suppress_below);
  view.set_postcodes_known(static_cast<int64_t>(decile_of_postcode_.size()));
  for (int q = 1; q <= 5; ++q) {
    *view.add_quintiles() = RowOf(ImdQuintile(2 * q), quintiles[q], options_.suppress_below);
  }
  const Tally& unknown = quintiles[0];
  if (unknown.referrals > 0 || unknown.caseload_room > 0 || !unknown.link_workers.empty() ||
      unknown.resources > 0 || unknown.unmet > 0) {
    *view.add_quintiles() = RowOf("unknown", unknown, options_.suppress_below);
  }
  for (const auto& [district, tally] : districts) {
    *view.add_districts() = RowOf(district, tally, options_.suppress_below);
  }
  return view;
}

}  // namespace signpost::monitor
