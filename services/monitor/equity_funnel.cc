#include "services/monitor/equity_funnel.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/events/timestamp.h"
#include "services/monitor/imd_quintile.h"
#include "services/monitor/week.h"

namespace signpost::monitor {
namespace {

std::string AgeBand(int age) {
  if (age <= 0) return "unknown";
  if (age < 18) return "0-17";
  if (age < 25) return "18-24";
  if (age < 50) return "25-49";
  if (age < 65) return "50-64";
  if (age < 80) return "65-79";
  return "80+";
}

std::string EthnicGroup(v1::EthnicCategory c) {
  if (c >= v1::ETHNIC_CATEGORY_WHITE_BRITISH && c <= v1::ETHNIC_CATEGORY_WHITE_OTHER) {
    return "white";
  }
  if (c >= v1::ETHNIC_CATEGORY_MIXED_WHITE_BLACK_CARIBBEAN &&
      c <= v1::ETHNIC_CATEGORY_MIXED_OTHER) {
    return "mixed";
  }
  if (c >= v1::ETHNIC_CATEGORY_ASIAN_INDIAN && c <= v1::ETHNIC_CATEGORY_ASIAN_OTHER) {
    return "asian";
  }
  if (c >= v1::ETHNIC_CATEGORY_BLACK_CARIBBEAN && c <= v1::ETHNIC_CATEGORY_BLACK_OTHER) {
    return "black";
  }
  if (c == v1::ETHNIC_CATEGORY_CHINESE || c == v1::ETHNIC_CATEGORY_OTHER) return "other";
  return "not stated";
}

std::string EnumName(const std::string& full, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(full, prefix));
}

// A wellbeing score to compare a measure with its baseline: SWEMWBS total, or ONS4's three
// positive items less anxiety.
std::optional<double> Score(const v1::OutcomeMeasure& m) {
  if (m.has_swemwbs()) {
    double total = 0;
    for (int a : m.swemwbs().answers()) total += a;
    return total;
  }
  if (m.has_ons4()) {
    const auto& o = m.ons4();
    return o.life_satisfaction() + o.worthwhile() + o.happiness() - o.anxiety();
  }
  return std::nullopt;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

EquityFunnelBook::EquityFunnelBook(EquityOptions options) : options_(options) {}

EquityFunnelBook::Person* EquityFunnelBook::Find(const std::string& referral_id) {
  auto it = people_.find(referral_id);
  return it == people_.end() ? nullptr : &it->second;
}

void EquityFunnelBook::Observe(const v1::Event& event) {
  const std::string& rid = event.envelope().referral_id();
  if (rid.empty()) return;
  absl::Time at = events::FromTimestamp(event.envelope().occurred_at());
  absl::MutexLock lock(&mu_);
  if (event.has_referral_received()) {
    if (people_.count(rid)) return;  // a redelivery
    const v1::PersonProfile& p = event.referral_received().referral().profile();
    Person person;
    person.imd_decile = p.imd_decile();
    person.received = at;
    person.groups = {
        {"imd_quintile", ImdQuintile(p.imd_decile())},
        {"age_band", AgeBand(p.age_years())},
        {"sex",
         p.sex() == v1::SEX_UNSPECIFIED ? "not stated" : EnumName(v1::Sex_Name(p.sex()), "SEX_")},
        {"ethnicity", EthnicGroup(p.ethnic_category())}};
    for (int g : p.inclusion_groups()) {
      person.groups.push_back(
          {"inclusion_group", EnumName(v1::InclusionGroup_Name(static_cast<v1::InclusionGroup>(g)),
                                       "INCLUSION_GROUP_")});
    }
    if (auto early = early_matches_.find(rid); early != early_matches_.end()) {
      ApplyMatch(person, early->second.decile);
      early_matches_.erase(early);
    }
    people_.emplace(rid, std::move(person));
    order_.push_back(rid);
    if (order_.size() > options_.referrals) {
      people_.erase(order_.front());
      order_.pop_front();
    }
    return;
  }
  Person* person = Find(rid);
  if (event.has_referral_matched()) {
    int decile = event.referral_matched().referral().profile().imd_decile();
    if (person != nullptr) {
      ApplyMatch(*person, decile);
    } else if (auto [early, fresh] =
                   early_matches_.try_emplace(rid, EarlyMatch{decile, ++early_numbered_});
               fresh) {
      early_order_.emplace_back(rid, early->second.number);
      if (early_order_.size() > options_.referrals) {
        const auto& [oldest, number] = early_order_.front();
        auto waiting = early_matches_.find(oldest);
        if (waiting != early_matches_.end() && waiting->second.number == number) {
          early_matches_.erase(waiting);
        }
        early_order_.pop_front();
      }
    }
    return;
  }
  if (person == nullptr) return;  // received before the look-back: not in the funnel
  if (!event.has_case_event()) return;
  const v1::CaseEvent& c = event.case_event();
  if (c.contact_result() == v1::CONTACT_RESULT_REACHED &&
      person->first_contact == absl::InfinitePast()) {
    person->first_contact = at;
  }
  if (!c.connected_resource_id().empty()) person->connected = true;
  if (c.has_outcome()) {
    if (auto score = Score(c.outcome())) {
      if (c.outcome().baseline()) {
        person->has_baseline = true;
        person->baseline = *score;
      } else {
        person->has_latest = true;
        person->latest = *score;
      }
    }
  }
  if (c.to_state() == v1::CASE_STATE_CLOSED && c.from_state() != c.to_state()) {
    person->closed = true;
  }
}

void EquityFunnelBook::ApplyMatch(Person& person, int derived_decile) {
  person.assigned = true;
  // The decile matching derived from the postcode, for a referral that came without one.
  if (person.imd_decile == 0 && derived_decile >= 1 && derived_decile <= 10) {
    person.imd_decile = derived_decile;
    for (auto& [dimension, group] : person.groups) {
      if (dimension == "imd_quintile") group = ImdQuintile(derived_decile);
    }
  }
}

namespace {

struct Tally {
  v1::FunnelCell cell;
  std::vector<double> days_to_contact;
};
using Tallies = std::map<std::pair<std::string, std::string>, Tally>;

// The share of referrals with a known decile that are in deciles 1-2.
struct Core20Count {
  int64_t known_decile = 0, core20 = 0;
  void Count(int decile) {
    if (decile < 1 || decile > 10) return;
    ++known_decile;
    if (decile <= 2) ++core20;
  }
  double Share() const {
    return known_decile == 0 ? 0 : static_cast<double>(core20) / static_cast<double>(known_decile);
  }
};

}  // namespace

v1::EquityFunnel EquityFunnelBook::Funnel() const {
  absl::MutexLock lock(&mu_);
  auto count = [](Tallies& tallies, const Person& person,
                  const std::pair<std::string, std::string>& key) {
    Tally& t = tallies[key];
    t.cell.set_referred(t.cell.referred() + 1);
    if (person.assigned) t.cell.set_assigned(t.cell.assigned() + 1);
    if (person.first_contact != absl::InfinitePast()) {
      t.cell.set_contacted(t.cell.contacted() + 1);
      t.days_to_contact.push_back(absl::ToDoubleHours(person.first_contact - person.received) /
                                  24.0);
    }
    if (person.connected) t.cell.set_connected(t.cell.connected() + 1);
    if (person.closed) {
      t.cell.set_closed(t.cell.closed() + 1);
      if (person.has_baseline && person.has_latest && person.latest > person.baseline) {
        t.cell.set_improved(t.cell.improved() + 1);
      }
    }
  };
  Tallies tallies;
  Core20Count core20;
  // Week by week: everyone, and by IMD quintile (the other groups would be too small a week).
  std::map<absl::CivilDay, std::pair<Tallies, Core20Count>> weeks;
  for (const auto& [rid, person] : people_) {
    core20.Count(person.imd_decile);
    count(tallies, person, {"all", "all"});
    for (const auto& key : person.groups) count(tallies, person, key);
    // A receipt without a time (occurred_at unset) has no week to be counted in.
    if (person.received <= absl::UnixEpoch()) continue;
    auto& [week, week_core20] = weeks[WeekStart(person.received)];
    week_core20.Count(person.imd_decile);
    count(week, person, {"all", "all"});
    for (const auto& key : person.groups) {
      if (key.first == "imd_quintile") count(week, person, key);
    }
  }
  auto emit = [&](google::protobuf::RepeatedPtrField<v1::FunnelCell>& cells,
                  const std::pair<std::string, std::string>& key, Tally& t) {
    v1::FunnelCell* cell = cells.Add();
    *cell = t.cell;
    cell->set_dimension(key.first);
    cell->set_group(key.second);
    cell->set_median_days_to_first_contact(Median(t.days_to_contact));
    if (cell->referred() < options_.suppress_below) {
      v1::FunnelCell withheld;
      withheld.set_dimension(key.first);
      withheld.set_group(key.second);
      withheld.set_suppressed(true);
      *cell = withheld;
    }
  };
  // "all" first, then by dimension and group.
  auto emit_all = [&](google::protobuf::RepeatedPtrField<v1::FunnelCell>& cells, Tallies& from) {
    if (auto all = from.find({"all", "all"}); all != from.end())
      emit(cells, all->first, all->second);
    for (auto& [key, tally] : from) {
      if (key.first != "all") emit(cells, key, tally);
    }
  };
  v1::EquityFunnel funnel;
  funnel.set_suppress_below(options_.suppress_below);
  funnel.set_core20_share_of_population(options_.core20_share_of_population);
  funnel.set_core20_share_of_referrals(core20.Share());
  emit_all(*funnel.mutable_cells(), tallies);
  for (auto& [start, week] : weeks) {
    v1::FunnelWeek* out = funnel.add_weeks();
    out->set_week_start(absl::FormatCivilTime(start));
    emit_all(*out->mutable_cells(), week.first);
    // A week's quintiles add up to its "all": one withheld quintile could be had by subtraction,
    // so when any is withheld all of the week's quintiles are; and the week's Core20 share (the
    // first quintile over those with a known decile) is given only when every quintile is shown.
    bool quintile_withheld = false;
    for (const auto& cell : out->cells()) {
      quintile_withheld |= cell.dimension() == "imd_quintile" && cell.suppressed();
    }
    const bool all_shown = !out->cells().empty() && !out->cells(0).suppressed();
    if (quintile_withheld) {
      for (auto& cell : *out->mutable_cells()) {
        if (cell.dimension() != "imd_quintile") continue;
        v1::FunnelCell withheld;
        withheld.set_dimension(cell.dimension());
        withheld.set_group(cell.group());
        withheld.set_suppressed(true);
        cell = withheld;
      }
    } else if (all_shown && week.second.known_decile > 0) {
      out->set_core20_share_of_referrals(week.second.Share());
    }
  }
  return funnel;
}

}  // namespace signpost::monitor
