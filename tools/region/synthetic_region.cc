#include "tools/region/synthetic_region.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "tools/region/default_region_profile.h"

namespace signpost::region {
namespace {

// What community resources for each need are called (the resource's name adds where it is).
struct NeedKinds {
  v1::NeedCategory need;
  int weight;  // how common such resources are, relative to the others
  std::vector<const char*> names;
};

const std::vector<NeedKinds>& Kinds() {
  static const auto* kinds = new std::vector<NeedKinds>{
      {v1::NEED_CATEGORY_LONELINESS,
       12,
       {"Friendship Café", "Lunch Club", "Men's Shed", "Befriending Service", "Social Club"}},
      {v1::NEED_CATEGORY_MENTAL_WELLBEING,
       10,
       {"Wellbeing Café", "Peer Support Group", "Mindfulness Course", "Wellbeing Drop-in"}},
      {v1::NEED_CATEGORY_PHYSICAL_ACTIVITY,
       10,
       {"Walking for Health Group", "Chair-based Exercise Class", "Community Football Sessions",
        "Swim for Health"}},
      {v1::NEED_CATEGORY_DEBT_AND_MONEY,
       7,
       {"Money Advice Service", "Benefits Advice Drop-in", "Credit Union", "Debt Advice Clinic"}},
      {v1::NEED_CATEGORY_HOUSING,
       4,
       {"Housing Advice Service", "Tenancy Support Service", "Homelessness Outreach"}},
      {v1::NEED_CATEGORY_CARER_SUPPORT, 5, {"Carers' Support Group", "Carers' Hub"}},
      {v1::NEED_CATEGORY_LONG_TERM_CONDITION,
       7,
       {"Diabetes Support Group", "Breathe Easy Group", "Pain Management Course", "Stroke Club"}},
      {v1::NEED_CATEGORY_EMPLOYMENT,
       5,
       {"Volunteer Centre", "Job Club", "Skills and Training Hub"}},
      {v1::NEED_CATEGORY_ARTS_AND_CREATIVITY,
       6,
       {"Community Choir", "Arts on Prescription", "Craft Group"}},
      {v1::NEED_CATEGORY_GARDENING_AND_NATURE,
       5,
       {"Community Garden", "Allotment Project", "Green Gym"}},
      {v1::NEED_CATEGORY_FOOD_AND_NUTRITION,
       5,
       {"Community Pantry", "Cook and Eat Course", "Food Bank"}},
      {v1::NEED_CATEGORY_BEREAVEMENT, 3, {"Bereavement Support Group", "Bereavement Café"}},
      {v1::NEED_CATEGORY_LEGAL_ADVICE, 2, {"Legal Advice Clinic", "Law Centre Drop-in"}},
      {v1::NEED_CATEGORY_LANGUAGE_AND_LEARNING,
       3,
       {"ESOL English Classes", "Adult Learning Centre", "English Conversation Club"}},
      {v1::NEED_CATEGORY_DIGITAL_SKILLS, 3, {"Digital Skills Drop-in", "Computer Buddies"}},
      {v1::NEED_CATEGORY_PRACTICAL_SUPPORT,
       4,
       {"Community Transport", "Good Neighbours Scheme", "Handyperson Service"}},
      {v1::NEED_CATEGORY_SUBSTANCE_USE, 2, {"Drug and Alcohol Recovery Service", "Recovery Café"}},
      {v1::NEED_CATEGORY_DOMESTIC_ABUSE,
       2,
       {"Domestic Abuse Support Service", "Domestic Abuse Outreach"}},
  };
  return *kinds;
}

constexpr const char* kOrganisationKinds[] = {"Community Trust",       "Community Association",
                                              "Voluntary Action",      "Neighbourhood Network",
                                              "Wellbeing Partnership", "Advice Network"};

// Made-up two-letter postcode areas for the copies of the region (no Q, V, X, Z first; no I, J,
// Q, V, X, Z second, as Royal Mail's areas).
std::string CopyArea(size_t index) {
  static const std::string kFirst = "ABCDEFGHJKLMNOPRSTUWY", kSecond = "ABCDEFGHKLMNOPRSTUWY";
  return std::string(1, kFirst[index / kSecond.size() % kFirst.size()]) +
         kSecond[index % kSecond.size()];
}

// A name as an id: lower-case letters and digits, anything else one hyphen ("King's Lynn" ->
// "king-s-lynn").
std::string Slug(const std::string& name) {
  std::string slug;
  for (char c : name) {
    if (absl::ascii_isalnum(c)) {
      slug += absl::ascii_tolower(c);
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

// The letters of an outward code ("LS" of "LS6", "S" of "S36").
std::string AreaOf(const std::string& outward) {
  size_t digit = 0;
  while (digit < outward.size() && absl::ascii_isalpha(outward[digit])) ++digit;
  return outward.substr(0, digit);
}

// Where copy `k` (k > 0) of the region lies: centred on a grid of 5 rows by 7 columns over
// southern and central England (latitude 50.6-52.8, longitude -4.8 to 1.5), whatever area the
// profile is, so that every copy stays within the bounds matching's postcode loader takes.
constexpr int kMaxCopies = 1 + 5 * 7;
struct Shift {
  double latitude = 0, longitude = 0;
};
Shift ShiftOfCopy(int k, double centre_latitude, double centre_longitude) {
  if (k == 0) return {};
  const int row = (k - 1) % 5, column = (k - 1) / 5;
  return {50.6 + row * 0.55 - centre_latitude, -4.8 + column * 1.05 - centre_longitude};
}

double Distance2(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = lat1 - lat2, dlon = (lon1 - lon2) * std::cos(lat1 * M_PI / 180);
  return dlat * dlat + dlon * dlon;
}

// A language other than English, drawn by its share of the population.
class OtherLanguages {
 public:
  explicit OtherLanguages(const RegionProfile& profile) {
    std::vector<double> shares;
    for (const auto& language : profile.languages) {
      if (language.code == "en") continue;
      codes_.push_back(language.code);
      shares.push_back(language.share);
    }
    if (!codes_.empty()) pick_ = std::discrete_distribution<size_t>(shares.begin(), shares.end());
  }
  // Empty when the profile lists no other language.
  std::string Draw(std::mt19937_64& rng) { return codes_.empty() ? "" : codes_[pick_(rng)]; }

 private:
  std::vector<std::string> codes_;
  std::discrete_distribution<size_t> pick_;
};

}  // namespace

Region GenerateRegion(uint64_t seed, int resource_count) {
  return GenerateRegion(DefaultRegionProfile(), seed, resource_count);
}

Region GenerateRegion(const RegionProfile& profile, uint64_t seed, int resource_count) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto chance = [&](double p) { return unit(rng) < p; };
  OtherLanguages other_languages(profile);
  Region region;
  region.name = profile.name;
  region.imd_edition = profile.imd_edition;
  region.core20_population_share = profile.core20_population_share;

  std::vector<std::string> areas;
  std::map<std::string, const ProfileDistrict*> district_of;
  double centre_latitude = 0, centre_longitude = 0;
  for (const auto& district : profile.districts) {
    district_of[district.code] = &district;
    centre_latitude += district.latitude / profile.districts.size();
    centre_longitude += district.longitude / profile.districts.size();
    if (std::find(areas.begin(), areas.end(), AreaOf(district.code)) == areas.end()) {
      areas.push_back(AreaOf(district.code));
    }
  }
  // One copy of the area per 3,000 resources, as many as the grid, the made-up postcode areas
  // (one per area of the profile and copy, none of them one of the profile's own: 420 two-letter
  // codes) and the made-up LSOA codes (E019 and five digits) allow; a larger directory is denser.
  const int copies = std::clamp(
      resource_count / 3000, 1,
      std::min({kMaxCopies,
                1 + (420 - static_cast<int>(areas.size())) / static_cast<int>(areas.size()),
                1 + 100000 / static_cast<int>(profile.lsoas.size())}));
  std::map<std::pair<int, std::string>, std::string> copy_area;
  for (int k = 1, next = 0; k < copies; ++k) {
    for (const auto& area : areas) {
      std::string made_up;
      do made_up = CopyArea(next++);
      while (std::find(areas.begin(), areas.end(), made_up) != areas.end());
      copy_area[{k, area}] = made_up;
    }
  }
  auto outward_in_copy = [&](const std::string& outward, int k) {
    if (k == 0) return outward;
    const std::string area = AreaOf(outward);
    return copy_area.at({k, area}) + outward.substr(area.size());
  };
  auto lsoa_in_copy = [&](int lsoa, int k) {
    return k == 0 ? profile.lsoas[lsoa].code
                  : absl::StrFormat("E019%05d",
                                    (k - 1) * static_cast<int>(profile.lsoas.size()) + lsoa);
  };

  std::vector<int> postcodes_in_lsoa(profile.lsoas.size());
  std::vector<std::vector<int>> postcodes_of_lsoa(profile.lsoas.size());
  for (size_t i = 0; i < profile.postcodes.size(); ++i) {
    ++postcodes_in_lsoa[profile.postcodes[i].lsoa];
    postcodes_of_lsoa[profile.postcodes[i].lsoa].push_back(static_cast<int>(i));
  }
  double people = 0;
  for (const auto& lsoa : profile.lsoas) people += std::max(lsoa.population, 1);

  // Each district is represented by the postcode nearest its centre (a referral giving only the
  // district is placed there, with that postcode's LSOA).
  std::map<std::string, int> nearest_postcode;
  for (size_t i = 0; i < profile.postcodes.size(); ++i) {
    const auto& p = profile.postcodes[i];
    const std::string outward = OutwardCode(p.postcode);
    const ProfileDistrict* district = district_of.at(outward);  // the parser checked it is there
    auto [it, first] = nearest_postcode.emplace(outward, static_cast<int>(i));
    if (!first) {
      const auto& best = profile.postcodes[it->second];
      if (Distance2(p.latitude, p.longitude, district->latitude, district->longitude) <
          Distance2(best.latitude, best.longitude, district->latitude, district->longitude)) {
        it->second = static_cast<int>(i);
      }
    }
  }

  for (int k = 0; k < copies; ++k) {
    const Shift shift = ShiftOfCopy(k, centre_latitude, centre_longitude);
    for (const auto& district : profile.districts) {
      auto nearest = nearest_postcode.find(district.code);
      if (nearest == nearest_postcode.end()) continue;  // no postcode of the profile in it
      const int lsoa = profile.postcodes[nearest->second].lsoa;
      region.postcodes.push_back({outward_in_copy(district.code, k),
                                  district.latitude + shift.latitude,
                                  district.longitude + shift.longitude, lsoa_in_copy(lsoa, k),
                                  profile.lsoas[lsoa].imd_decile});
    }
    for (const auto& p : profile.postcodes) {
      const std::string outward = OutwardCode(p.postcode);
      region.postcodes.push_back(
          {absl::StrCat(outward_in_copy(outward, k), p.postcode.substr(outward.size())),
           p.latitude + shift.latitude, p.longitude + shift.longitude, lsoa_in_copy(p.lsoa, k),
           profile.lsoas[p.lsoa].imd_decile,
           std::max(profile.lsoas[p.lsoa].population, 1) / people / postcodes_in_lsoa[p.lsoa] /
               copies});
    }
  }

  // Practices and networks: Primary Care Networks in each local authority, about one per 130
  // LSOAs (some 200,000 people: fewer, larger networks than the real ones, so that the demo's
  // queues are busy), four practices each, three to five link workers. Ids ("leeds-pcn-1") and
  // practice codes (from 86001) differ from those of the region before profiles ("pcn-leeds-1",
  // from 81001), whose networks a directory topic keeps: none of its link workers is in one of
  // these networks, so none is given a case no app works.
  std::vector<std::string> authorities;
  std::map<std::string, int> lsoas_of_authority;
  for (const auto& lsoa : profile.lsoas) {
    if (lsoas_of_authority[lsoa.local_authority]++ == 0) {
      authorities.push_back(lsoa.local_authority);
    }
  }
  int ods = 86001;
  for (const auto& authority : authorities) {
    const int networks =
        std::max(1, static_cast<int>(std::lround(lsoas_of_authority[authority] / 130.0)));
    const std::string slug = Slug(authority);
    // Each network covers a run of the authority's LSOAs (in the profile's order, which is by
    // code): the postcode districts they lie in are the network's, which places its link
    // workers' caseload room in the monitor's provision view.
    std::vector<std::set<std::string>> districts_of_network(networks);
    for (size_t i = 0, seen = 0; i < profile.lsoas.size(); ++i) {
      if (profile.lsoas[i].local_authority != authority) continue;
      const size_t n = seen++ * networks / lsoas_of_authority[authority];
      for (int p : postcodes_of_lsoa[i]) {
        districts_of_network[n].insert(OutwardCode(profile.postcodes[p].postcode));
      }
    }
    for (int n = 1; n <= networks; ++n) {
      v1::Network network;
      network.set_id(absl::StrCat(slug, "-pcn-", n));
      network.set_name(absl::StrCat(authority, " PCN ", n));
      for (const std::string& district : districts_of_network[n - 1]) {
        network.add_postcode_districts(district);
      }
      for (int p = 0; p < 4; ++p) {
        std::string code = absl::StrCat(std::string(1, absl::ascii_toupper(authority[0])), ods++);
        network.add_practice_ods_codes(code);
        region.practice_ods_codes.push_back(code);
      }
      const int workers = 3 + static_cast<int>(unit(rng) * 3);
      for (int w = 1; w <= workers; ++w) {
        v1::LinkWorker worker;
        worker.set_id(absl::StrCat(network.id(), "-lw", w));
        worker.set_name(absl::StrCat("Link worker ", w, " (", network.name(), ")"));
        worker.set_network_id(network.id());
        worker.add_languages("en");
        if (chance(0.35)) {
          if (std::string other = other_languages.Draw(rng); !other.empty()) {
            worker.add_languages(other);
          }
        }
        worker.set_max_active_cases(40);
        worker.set_available(chance(0.95));
        region.link_workers.push_back(worker);
      }
      region.networks.push_back(std::move(network));
    }
  }

  // Resources: where people live, but thinner where deprivation is higher (the inverse care law:
  // an LSOA in the most deprived decile gets 0.6 of the average, one in the least 1.5).
  std::vector<double> lsoa_weights;
  for (size_t i = 0; i < profile.lsoas.size(); ++i) {
    const auto& lsoa = profile.lsoas[i];
    lsoa_weights.push_back(postcodes_of_lsoa[i].empty()
                               ? 0.0
                               : std::max(lsoa.population, 1) * (0.5 + 0.1 * lsoa.imd_decile));
  }
  std::discrete_distribution<size_t> pick_lsoa(lsoa_weights.begin(), lsoa_weights.end());
  std::vector<int> need_weights;
  for (const auto& kind : Kinds()) need_weights.push_back(kind.weight);
  std::discrete_distribution<size_t> pick_need(need_weights.begin(), need_weights.end());
  for (int i = 0; i < resource_count; ++i) {
    const int k = static_cast<int>(rng() % copies);
    const Shift shift = ShiftOfCopy(k, centre_latitude, centre_longitude);
    const auto& lsoa_postcodes = postcodes_of_lsoa[pick_lsoa(rng)];
    const ProfilePostcode& near = profile.postcodes[lsoa_postcodes[rng() % lsoa_postcodes.size()]];
    const std::string outward = OutwardCode(near.postcode);
    const std::string district = outward_in_copy(outward, k);
    const std::string& town = district_of.at(outward)->post_town;
    // The first resources cover every need once; the rest follow how common each kind is.
    const NeedKinds& kind = Kinds()[i < static_cast<int>(Kinds().size()) ? i : pick_need(rng)];

    v1::Resource r;
    r.set_id(absl::StrFormat("res-%06d", i));
    r.add_need_categories(kind.need);
    const int organisation = static_cast<int>(rng() % std::size(kOrganisationKinds));
    r.mutable_organization()->set_id(absl::StrCat("org-", Slug(town), "-", k, "-", organisation));
    r.mutable_organization()->set_name(absl::StrCat(town, " ", kOrganisationKinds[organisation],
                                                    k > 0 ? absl::StrCat(" ", k) : ""));
    double status = unit(rng);
    r.set_status(status < 0.92   ? v1::RESOURCE_STATUS_ACTIVE
                 : status < 0.96 ? v1::RESOURCE_STATUS_TEMPORARILY_CLOSED
                                 : v1::RESOURCE_STATUS_INACTIVE);
    bool remote_only = chance(0.12);
    if (!remote_only) {
      auto* loc = r.add_locations();
      loc->set_id(absl::StrCat("loc-", r.id()));
      loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
      loc->set_postcode(absl::StrCat(district, near.postcode.substr(outward.size())));
      // Within some 300 m of a postcode of the LSOA.
      loc->mutable_point()->set_latitude(near.latitude + shift.latitude +
                                         (unit(rng) - 0.5) * 0.005);
      loc->mutable_point()->set_longitude(near.longitude + shift.longitude +
                                          (unit(rng) - 0.5) * 0.008);
      r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    }
    if (remote_only || chance(0.15)) r.add_delivery_modes(v1::DELIVERY_MODE_PHONE);
    if (remote_only ? chance(0.7) : chance(0.1)) r.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
    r.mutable_access()->set_step_free(chance(0.7));
    r.mutable_access()->set_hearing_loop(chance(0.25));
    r.mutable_access()->set_bsl(chance(0.05));
    r.mutable_access()->set_interpreter(chance(0.1));
    r.add_languages("en");
    if (chance(0.15)) {
      if (std::string other = other_languages.Draw(rng); !other.empty()) r.add_languages(other);
    }
    if (chance(0.6)) {
      int total = 5 + static_cast<int>(rng() % 30);
      r.mutable_capacity()->set_places_total(total);
      r.mutable_capacity()->set_places_available(chance(0.2) ? 0
                                                             : 1 + static_cast<int>(rng() % total));
      r.mutable_capacity()->set_waitlist_open(chance(0.5));
    }
    std::string for_whom;
    double eligibility = unit(rng);
    if (eligibility < 0.04) {
      r.add_eligibility(v1::INCLUSION_GROUP_VETERAN);
      for_whom = " for Veterans";
    } else if (eligibility < 0.10) {
      r.add_eligibility(v1::INCLUSION_GROUP_CARER);
      if (kind.need != v1::NEED_CATEGORY_CARER_SUPPORT) for_whom = " for Carers";
    } else if (eligibility < 0.16) {
      r.add_eligibility(v1::INCLUSION_GROUP_YOUNG_PERSON);
      r.set_maximum_age(25);
      for_whom = " for Young People";
    } else if (eligibility < 0.22) {
      r.add_eligibility(v1::INCLUSION_GROUP_OLDER_PERSON);
      r.set_minimum_age(60);
      for_whom = " for Over-60s";
    } else if (eligibility < 0.40) {
      r.set_minimum_age(18);
    }
    // "Lunch Club for Over-60s, Keighley BD21"
    r.set_name(
        absl::StrCat(kind.names[rng() % kind.names.size()], for_whom, ", ", town, " ", district));
    r.set_free(chance(0.8));
    r.mutable_assured_date()->set_year(chance(0.85) ? 2026 : 2024);
    r.mutable_assured_date()->set_month(1 + static_cast<int>(rng() % 10));
    r.mutable_assured_date()->set_day(1 + static_cast<int>(rng() % 28));
    region.resources.push_back(std::move(r));
  }
  return region;
}

}  // namespace signpost::region
