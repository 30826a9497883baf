#include "tools/region/synthetic_region.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signpost::region {
namespace {

struct Town {
  const char* name;
  const char* area;  // postcode area letters
  double lat, lon;
  int districts;
};

constexpr Town kTowns[] = {
    {"Leeds", "LS", 53.7997, -1.5492, 12},    {"Bradford", "BD", 53.7950, -1.7594, 8},
    {"Wakefield", "WF", 53.6833, -1.4977, 6}, {"Huddersfield", "HD", 53.6458, -1.7850, 5},
    {"Harrogate", "HG", 53.9921, -1.5418, 4},
};

constexpr const char* kInwardLetters = "ABDEFGHJLNPQRSTUWXYZ";
constexpr const char* kLanguages[] = {"pl", "ur", "pa", "bn", "ar", "so", "ro", "gu", "ku", "zh"};
constexpr const char* kKinds[] = {"group", "club", "service", "project", "drop-in", "hub"};

v1::NeedCategory NeedAt(int i) { return static_cast<v1::NeedCategory>(1 + i % 18); }

}  // namespace

Region GenerateRegion(uint64_t seed, int resource_count) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto chance = [&](double p) { return unit(rng) < p; };
  Region region;

  // Postcodes: per town, districts in a ring round the centre; 40 postcodes per district.
  struct District {
    std::string code;
    double lat, lon;
    int imd;
  };
  // A county-sized region carries about 3,000 resources; a larger directory is spread over
  // copies of it across England (as a national directory is), so that density stays realistic.
  int copies = std::max(1, resource_count / 3000);
  std::vector<Town> towns;
  std::vector<std::string> area_names;
  static const std::string kFirst = "ABCDEFGHJKLMNOPRSTUWY", kSecond = "ABCDEFGHKLMNOPRSTUWY";
  for (int k = 0; k < copies; ++k) {
    for (size_t t = 0; t < std::size(kTowns); ++t) {
      Town town = kTowns[t];
      if (k > 0) {
        // Synthetic areas on a grid over England, 0.9 degrees of latitude apart.
        size_t index = k * std::size(kTowns) + t;
        area_names.push_back(std::string(1, kFirst[index / kSecond.size() % kFirst.size()]) +
                             kSecond[index % kSecond.size()]);
        town.area = area_names.back().c_str();
        town.lat = 50.8 + (k % 5) * 0.9 + (town.lat - 53.8);
        town.lon = -3.2 + (k / 5 % 7) * 0.55 + (town.lon + 1.55);
      }
      towns.push_back(town);
    }
  }
  // area_names must not move while towns point into it.
  for (size_t i = 0, j = 0; i < towns.size(); ++i) {
    if (i >= std::size(kTowns)) towns[i].area = area_names[j++].c_str();
  }
  std::vector<District> districts;
  for (const auto& town : towns) {
    for (int d = 1; d <= town.districts; ++d) {
      double angle = 2 * M_PI * d / town.districts;
      double ring_km = d <= 2 ? 1.0 : 2.0 + 0.6 * d;
      District district{absl::StrCat(town.area, d), town.lat + ring_km / 111.0 * std::sin(angle),
                        town.lon + ring_km / 68.0 * std::cos(angle),
                        // Inner districts are more deprived.
                        std::clamp(static_cast<int>(1 + ring_km * 0.9 + unit(rng) * 3), 1, 10)};
      districts.push_back(district);
      region.postcodes.push_back({district.code, district.lat, district.lon,
                                  absl::StrFormat("E0101%04d", static_cast<int>(districts.size())),
                                  district.imd});
      for (int p = 0; p < 40; ++p) {
        std::string postcode =
            absl::StrCat(district.code, " ", 1 + p % 9, std::string(1, kInwardLetters[p % 20]),
                         std::string(1, kInwardLetters[(p * 7 + d) % 20]));
        region.postcodes.push_back(
            {postcode, district.lat + (unit(rng) - 0.5) * 0.02,
             district.lon + (unit(rng) - 0.5) * 0.03,
             absl::StrFormat("E0102%05d", static_cast<int>(region.postcodes.size())),
             std::clamp(district.imd + static_cast<int>(unit(rng) * 3) - 1, 1, 10)});
      }
    }
  }

  // Practices and networks: two PCNs per town, four practices each, three to five link workers.
  int ods = 81001;
  for (size_t t = 0; t < std::size(kTowns); ++t) {
    const Town& town = kTowns[t];
    for (int n = 1; n <= 2; ++n) {
      v1::Network network;
      network.set_id(absl::StrCat("pcn-", absl::AsciiStrToLower(town.name), "-", n));
      network.set_name(absl::StrCat(town.name, " PCN ", n));
      for (int p = 0; p < 4; ++p) {
        std::string code = absl::StrCat(std::string(1, town.area[0]), ods++);
        network.add_practice_ods_codes(code);
        region.practice_ods_codes.push_back(code);
      }
      int workers = 3 + static_cast<int>(unit(rng) * 3);
      for (int w = 1; w <= workers; ++w) {
        v1::LinkWorker worker;
        worker.set_id(absl::StrCat(network.id(), "-lw", w));
        worker.set_name(absl::StrCat("Link worker ", w, " (", network.name(), ")"));
        worker.set_network_id(network.id());
        worker.add_languages("en");
        if (chance(0.35)) worker.add_languages(kLanguages[rng() % 10]);
        worker.set_max_active_cases(40);
        worker.set_available(chance(0.95));
        region.link_workers.push_back(worker);
      }
      region.networks.push_back(std::move(network));
    }
  }

  // Resources: spread over districts, every need category covered.
  for (int i = 0; i < resource_count; ++i) {
    const District& d = districts[rng() % districts.size()];
    v1::NeedCategory need = NeedAt(i);
    v1::Resource r;
    r.set_id(absl::StrFormat("res-%06d", i));
    std::string need_name =
        v1::NeedCategory_Name(need).substr(std::string("NEED_CATEGORY_").size());
    r.set_name(absl::StrCat(d.code, " ", absl::AsciiStrToLower(need_name), " ", kKinds[i % 6]));
    r.mutable_organization()->set_id(absl::StrFormat("org-%05d", i / 3));
    r.mutable_organization()->set_name(absl::StrFormat("Community organisation %d", i / 3));
    double status = unit(rng);
    r.set_status(status < 0.92   ? v1::RESOURCE_STATUS_ACTIVE
                 : status < 0.96 ? v1::RESOURCE_STATUS_TEMPORARILY_CLOSED
                                 : v1::RESOURCE_STATUS_INACTIVE);
    r.add_need_categories(need);
    if (chance(0.3)) r.add_need_categories(NeedAt(i + 1 + static_cast<int>(rng() % 17)));
    bool remote_only = chance(0.12);
    if (!remote_only) {
      auto* loc = r.add_locations();
      loc->set_id(absl::StrCat("loc-", r.id()));
      loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
      loc->mutable_point()->set_latitude(d.lat + (unit(rng) - 0.5) * 0.04);
      loc->mutable_point()->set_longitude(d.lon + (unit(rng) - 0.5) * 0.06);
      r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    }
    if (remote_only || chance(0.15)) r.add_delivery_modes(v1::DELIVERY_MODE_PHONE);
    if (remote_only ? chance(0.7) : chance(0.1)) r.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
    r.mutable_access()->set_step_free(chance(0.7));
    r.mutable_access()->set_hearing_loop(chance(0.25));
    r.mutable_access()->set_bsl(chance(0.05));
    r.mutable_access()->set_interpreter(chance(0.1));
    r.add_languages("en");
    if (chance(0.15)) r.add_languages(kLanguages[rng() % 10]);
    if (chance(0.6)) {
      int total = 5 + static_cast<int>(rng() % 30);
      r.mutable_capacity()->set_places_total(total);
      r.mutable_capacity()->set_places_available(chance(0.2) ? 0
                                                             : 1 + static_cast<int>(rng() % total));
      r.mutable_capacity()->set_waitlist_open(chance(0.5));
    }
    double eligibility = unit(rng);
    if (eligibility < 0.04)
      r.add_eligibility(v1::INCLUSION_GROUP_VETERAN);
    else if (eligibility < 0.10)
      r.add_eligibility(v1::INCLUSION_GROUP_CARER);
    else if (eligibility < 0.16) {
      r.add_eligibility(v1::INCLUSION_GROUP_YOUNG_PERSON);
      r.set_maximum_age(25);
    } else if (eligibility < 0.22) {
      r.add_eligibility(v1::INCLUSION_GROUP_OLDER_PERSON);
      r.set_minimum_age(60);
    } else if (eligibility < 0.40) {
      r.set_minimum_age(18);
    }
    r.set_free(chance(0.8));
    r.mutable_assured_date()->set_year(chance(0.85) ? 2026 : 2024);
    r.mutable_assured_date()->set_month(1 + static_cast<int>(rng() % 10));
    r.mutable_assured_date()->set_day(1 + static_cast<int>(rng() % 28));
    region.resources.push_back(std::move(r));
  }
  return region;
}

}  // namespace signpost::region
