#include "services/matching/candidate_filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace signpost::matching {
bool Offers(const v1::Resource& r, v1::DeliveryMode mode) {
  return std::find(r.delivery_modes().begin(), r.delivery_modes().end(), mode) !=
         r.delivery_modes().end();
}

bool Speaks(const v1::Resource& r, const std::string& language) {
  return std::find(r.languages().begin(), r.languages().end(), language) != r.languages().end();
}

bool BelongsTo(const v1::PersonProfile& p, v1::InclusionGroup group) {
  if (std::find(p.inclusion_groups().begin(), p.inclusion_groups().end(), group) !=
      p.inclusion_groups().end()) {
    return true;
  }
  switch (group) {
    case v1::INCLUSION_GROUP_YOUNG_PERSON:
      return p.age_years() > 0 && p.age_years() < 25;
    case v1::INCLUSION_GROUP_OLDER_PERSON:
      return p.age_years() >= 65;
    case v1::INCLUSION_GROUP_WOMEN_ONLY:
      return p.sex() == v1::SEX_FEMALE;
    case v1::INCLUSION_GROUP_MEN_ONLY:
      return p.sex() == v1::SEX_MALE;
    case v1::INCLUSION_GROUP_ETHNIC_MINORITY:
      return p.ethnic_category() != v1::ETHNIC_CATEGORY_UNSPECIFIED &&
             p.ethnic_category() != v1::ETHNIC_CATEGORY_WHITE_BRITISH &&
             p.ethnic_category() != v1::ETHNIC_CATEGORY_NOT_STATED;
    default:
      return false;
  }
}

bool IsStale(const v1::Resource& r, const MatchPolicy& policy, absl::Time now) {
  if (!r.has_assured_date() || r.assured_date().year() == 0) return true;
  absl::Time assured = absl::FromCivil(
      absl::CivilDay(r.assured_date().year(), r.assured_date().month(), r.assured_date().day()),
      absl::UTCTimeZone());
  return now - assured > policy.max_assured_age;
}

std::optional<Exclusion> WhyExcluded(const Candidate& c, const v1::PersonProfile& person,
                                     v1::NeedCategory need, const MatchPolicy& policy,
                                     absl::Time now) {
  using Kind = Exclusion::Kind;
  const v1::Resource& r = *c.resource;
  if (r.status() != v1::RESOURCE_STATUS_ACTIVE) return Exclusion{Kind::kInactive, "not active"};

  if (c.remote) {
    bool phone = Offers(r, v1::DELIVERY_MODE_PHONE);
    bool online = Offers(r, v1::DELIVERY_MODE_ONLINE);
    if (!phone && (!online || person.digitally_excluded())) {
      return Exclusion{Kind::kReach, person.digitally_excluded()
                                         ? "online only, and the person is digitally excluded"
                                         : "not delivered remotely"};
    }
  } else {
    double radius = policy.RadiusKm(need, person.transport_barrier());
    // Redis searched by its stored points, within about 0.6 m of the records' own: what it
    // found at the very edge is within reach.
    constexpr double kGeoPrecisionKm = 0.001;
    if (c.distance_km > radius + kGeoPrecisionKm) {
      return Exclusion{Kind::kReach, absl::StrCat("beyond ", radius, " km")};
    }
    const auto& access = person.access_needs();
    if (access.step_free() && !r.access().step_free()) {
      return Exclusion{Kind::kAccess, "no step-free access"};
    }
    if (access.bsl() && !r.access().bsl()) return Exclusion{Kind::kAccess, "no BSL"};
    if (access.hearing_loop() && !r.access().hearing_loop()) {
      return Exclusion{Kind::kAccess, "no hearing loop"};
    }
  }

  int age = person.age_years();
  if (r.minimum_age() > 0 && age < r.minimum_age()) {
    return Exclusion{Kind::kEligibility, absl::StrCat("for ages ", r.minimum_age(), "+")};
  }
  if (r.maximum_age() > 0 && age > r.maximum_age()) {
    return Exclusion{Kind::kEligibility, absl::StrCat("for ages up to ", r.maximum_age())};
  }
  if (r.eligibility_size() > 0 &&
      std::none_of(r.eligibility().begin(), r.eligibility().end(),
                   [&](int g) { return BelongsTo(person, static_cast<v1::InclusionGroup>(g)); })) {
    return Exclusion{Kind::kEligibility, "for a group the person is not in"};
  }

  const auto& capacity = r.capacity();
  if (capacity.places_total() > 0 && capacity.places_available() <= 0 &&
      !capacity.waitlist_open()) {
    return Exclusion{Kind::kCapacity, "full, waitlist closed"};
  }

  const std::string& language = person.preferred_language();
  if (person.interpreter_required() && !language.empty() && !Speaks(r, language) &&
      !r.access().interpreter()) {
    return Exclusion{Kind::kLanguage, absl::StrCat("no ", language, " and no interpreter")};
  }

  if (policy.exclude_stale && IsStale(r, policy, now)) {
    return Exclusion{Kind::kStale, "directory entry not assured recently"};
  }
  return std::nullopt;
}

}  // namespace signpost::matching
