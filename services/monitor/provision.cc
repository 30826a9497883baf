#include "services/monitor/provision.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "common/events/case_states.h"
#include "common/events/timestamp.h"
#include "services/monitor/imd_quintile.h"

namespace signpost::monitor {
namespace {

// Quintile 1..5 of a decile, 0 when unknown.
int QuintileIndex(int decile) { return decile >= 1 && decile <= 10 ? (decile + 1) / 2 : 0; }

// A district as the events give it (a referrer's field passed on, a directory's), kept only when
// it is a well-formed outward code: anything else would be a row of its own, for ever.
std::string DistrictOf(const std::string& text) {
  std::string district = geo::PostcodeDistrict(text);
  return geo::IsOutwardCode(district) ? district : "";
}

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

void Withhold(v1::ProvisionRow& row) {
  row.set_suppressed(true);
  row.set_referrals(0);
  row.set_unmet_needs(0);  // counted at their referrals: some would say there are some
  row.clear_median_days_to_first_contact();
  row.clear_resource_places_per_referral();
  row.clear_caseload_room_per_referral();
}

v1::ProvisionRow RowOf(const std::string& area, const Tally& t) {
  v1::ProvisionRow row;
  row.set_area(area);
  row.set_caseload_room(t.caseload_room);
  row.set_link_workers(static_cast<int64_t>(t.link_workers.size()));
  row.set_resources(t.resources);
  row.set_resource_places(t.places);
  row.set_resource_places_available(t.places_available);
  row.set_unmet_needs(t.unmet);
  row.set_referrals(t.referrals);
  if (auto median = Median(t.days_to_first_contact)) row.set_median_days_to_first_contact(*median);
  if (t.referrals > 0) {
    row.set_resource_places_per_referral(static_cast<double>(t.places) / t.referrals);
    row.set_caseload_room_per_referral(t.caseload_room / t.referrals);
  }
  return row;
}

// Small numbers withheld in one breakdown (the quintiles, or the districts). Each breakdown adds
// up to the same referrals as the other and as the equity funnel's "all": one withheld cell
// would be that total less the cells shown, so when one alone is withheld the next smallest is
// too.
void WithholdSmallNumbers(google::protobuf::RepeatedPtrField<v1::ProvisionRow>& rows,
                          int suppress_below) {
  int withheld = 0;
  for (auto& row : rows) {
    if (row.referrals() > 0 && row.referrals() < suppress_below) {
      Withhold(row);
      ++withheld;
    }
  }
  if (withheld != 1) return;
  v1::ProvisionRow* smallest = nullptr;
  for (auto& row : rows) {
    if (row.suppressed() || row.referrals() == 0) continue;
    if (smallest == nullptr || row.referrals() < smallest->referrals()) smallest = &row;
  }
  if (smallest != nullptr) Withhold(*smallest);
}

// The entry of `id`, made when new; beyond `bound` entries the oldest made is forgotten. Erasing
// another entry leaves this one's iterator valid (`bound` is at least 1).
template <typename Map>
typename Map::mapped_type& Remembered(Map& map, std::deque<std::string>& order,
                                      const std::string& id, size_t bound) {
  auto [it, fresh] = map.try_emplace(id);
  if (fresh) {
    order.push_back(id);
    if (order.size() > bound) {
      map.erase(order.front());
      order.pop_front();
    }
  }
  return it->second;
}

}  // namespace

ProvisionBook::ProvisionBook(ProvisionOptions options) : options_(options) {
  options_.referrals = std::max<size_t>(options_.referrals, 1);
}

void ProvisionBook::SetPostcodes(const std::vector<geo::PostcodeRow>& rows) {
  absl::MutexLock lock(&mu_);
  decile_of_postcode_.clear();
  district_postcodes_.clear();
  for (const geo::PostcodeRow& row : rows) {
    std::optional<std::string> code = geo::NormalisePostcode(row.code);
    if (!code) continue;  // a district's centre ("LS6"), not a place
    decile_of_postcode_[*code] = row.imd_decile;
    ++district_postcodes_[geo::PostcodeDistrict(*code)][QuintileIndex(row.imd_decile)];
  }
  made_.reset();
}

ProvisionBook::Referral& ProvisionBook::ReferralOf(const std::string& id) {
  return Remembered(referrals_, referral_order_, id, options_.referrals);
}

ProvisionBook::Case& ProvisionBook::CaseOf(const std::string& id) {
  return Remembered(cases_, case_order_, id, options_.referrals);
}

void ProvisionBook::Observe(const v1::Event& event, bool within_look_back) {
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
      if (location.type() == v1::LOCATION_TYPE_VIRTUAL) continue;
      if (auto code = geo::NormalisePostcode(location.postcode())) {
        place.postcode = *code;
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
    Worker& worker = workers_[w.id()];
    worker = Worker{w.network_id(), {}, std::max(0, w.max_active_cases()), w.available()};
    for (const auto& d : w.postcode_districts()) {
      if (std::string district = DistrictOf(d); !district.empty()) {
        worker.districts.push_back(district);
      }
    }
    return;
  }
  if (event.has_network_upserted()) {
    const v1::Network& n = event.network_upserted().network();
    std::vector<std::string>& districts = network_districts_[n.id()];
    districts.clear();
    for (const auto& d : n.postcode_districts()) {
      if (std::string district = DistrictOf(d); !district.empty()) districts.push_back(district);
    }
    return;
  }
  if (event.has_need_unmet()) {
    if (!within_look_back) return;
    const std::string& id = event.envelope().event_id();
    if (!id.empty() && !unmet_events_.insert(id).second) return;  // a redelivery
    const v1::NeedUnmet& unmet = event.need_unmet();
    unmet_.push_back({rid, id, unmet.imd_decile(), DistrictOf(unmet.postcode_district()), at});
    // Forgotten once past the look-back (read in about the order they happened), or the oldest
    // beyond the bound.
    while (unmet_.size() > options_.referrals ||
           (!unmet_.empty() && unmet_.front().at < at - options_.look_back)) {
      unmet_events_.erase(unmet_.front().event_id);
      unmet_.pop_front();
    }
    return;
  }
  if (rid.empty()) return;
  if (event.has_referral_matched()) {
    const v1::ReferralMatched& m = event.referral_matched();
    if (within_look_back) {
      Referral& referral = ReferralOf(rid);
      if (!referral.matched) {
        const v1::PersonProfile& p = m.referral().profile();
        referral.matched = true;
        referral.decile = p.imd_decile();
        referral.district =
            DistrictOf(!p.postcode_district().empty() ? p.postcode_district() : p.home_postcode());
        referral.matched_at = at;
      }
    }
    // The case may have been read first (each topic is read on its own): it says more.
    if (!m.link_worker_id().empty() && !cases_.count(rid)) {
      CaseOf(rid).link_worker = m.link_worker_id();
    }
    return;
  }
  if (event.has_case_event()) {
    const v1::CaseEvent& c = event.case_event();
    if (within_look_back && c.contact_result() == v1::CONTACT_RESULT_REACHED) {
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
  if (absl::StartsWith(directory_key, "link-worker:") ||
      absl::StartsWith(directory_key, "network:")) {
    return;
  }
  absl::MutexLock lock(&mu_);
  resources_.erase(directory_key);
}

v1::Provision ProvisionBook::Provision(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  if (!made_ || now - made_->first >= options_.remake_after ||
      made_->first - now > options_.remake_after) {  // the clock stepped back
    made_.emplace(now, Make(now));
  }
  return made_->second;
}

v1::Provision ProvisionBook::Make(absl::Time now) const {
  const absl::Time since = now - options_.look_back;
  std::array<Tally, 6> quintiles;  // 0: unknown
  std::map<std::string, Tally> districts;

  for (const auto& [id, place] : resources_) {
    auto decile = decile_of_postcode_.find(place.postcode);
    Tally* district =
        place.postcode.empty() ? nullptr : &districts[geo::PostcodeDistrict(place.postcode)];
    for (Tally* t :
         {&quintiles[decile == decile_of_postcode_.end() ? 0 : QuintileIndex(decile->second)],
          district}) {
      if (t == nullptr) continue;
      ++t->resources;
      t->places += place.total;
      t->places_available += place.available;
    }
  }

  std::map<std::string, int64_t> open_cases;
  for (const auto& [id, c] : cases_) {
    if (!c.link_worker.empty()) ++open_cases[c.link_worker];
  }
  for (const auto& [id, worker] : workers_) {
    double room = 0;
    if (worker.available) {
      auto open = open_cases.find(id);
      room = static_cast<double>(std::max<int64_t>(
          0, worker.max_active_cases - (open == open_cases.end() ? 0 : open->second)));
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
    for (const std::string& district : covered) {
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
    if (!referral.matched || referral.matched_at < since) continue;
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

  // An unmet need is counted where its referral is (the decile and district matching gave the
  // person), so that need and referrals are set side by side alike; where the referral is not
  // followed, where the event says.
  for (const UnmetNeed& unmet : unmet_) {
    if (unmet.at < since) continue;
    int decile = unmet.decile;
    const std::string* district = &unmet.district;
    if (auto it = referrals_.find(unmet.referral_id);
        it != referrals_.end() && it->second.matched) {
      decile = it->second.decile;
      district = &it->second.district;
    }
    ++quintiles[QuintileIndex(decile)].unmet;
    if (!district->empty()) ++districts[*district].unmet;
  }

  v1::Provision view;
  view.set_suppress_below(options_.suppress_below);
  view.set_postcodes_known(static_cast<int64_t>(decile_of_postcode_.size()));
  for (int q = 1; q <= 5; ++q) *view.add_quintiles() = RowOf(ImdQuintile(2 * q), quintiles[q]);
  const Tally& unknown = quintiles[0];
  if (unknown.referrals > 0 || unknown.caseload_room > 0 || !unknown.link_workers.empty() ||
      unknown.resources > 0 || unknown.unmet > 0) {
    *view.add_quintiles() = RowOf("unknown", unknown);
  }
  for (const auto& [district, tally] : districts) *view.add_districts() = RowOf(district, tally);
  WithholdSmallNumbers(*view.mutable_quintiles(), options_.suppress_below);
  WithholdSmallNumbers(*view.mutable_districts(), options_.suppress_below);
  return view;
}

}  // namespace signpost::monitor
