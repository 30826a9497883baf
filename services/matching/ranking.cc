#include "services/matching/ranking.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace signpost::matching {
namespace {

struct Scored {
  const Candidate* candidate;
  double score;
};

double Score(const Candidate& c, const v1::PersonProfile& person, const MatchPolicy& policy,
             absl::Time now) {
  const v1::Resource& r = *c.resource;
  // Distance dominates: 10 points per km, and a remote option counts as if 2 km away.
  double score = -10.0 * (c.remote ? 2.0 : c.distance_km);
  const auto& capacity = r.capacity();
  if (capacity.places_total() > 0) {
    score += capacity.places_available() > 0 ? 2.0 + std::min(capacity.places_available(), 10) * 0.3
                                             : -3.0;  // waitlist only
  }
  if (IsStale(r, policy, now)) score -= 4.0;
  if (r.free()) score += 2.0;
  const std::string& language = person.preferred_language();
  if (!language.empty() && language != "en" && Speaks(r, language)) score += 6.0;
  const auto& needs = person.access_needs();
  if (needs.step_free() && r.access().step_free()) score += 1.0;
  if (needs.interpreter() && r.access().interpreter()) score += 1.0;
  return score;
}

std::vector<std::string> Reasons(const Candidate& c, const v1::PersonProfile& person,
                                 const MatchPolicy& policy, absl::Time now) {
  const v1::Resource& r = *c.resource;
  std::vector<std::string> reasons;
  if (c.remote) {
    reasons.push_back(Offers(r, v1::DELIVERY_MODE_PHONE) &&
                              (person.digitally_excluded() || !Offers(r, v1::DELIVERY_MODE_ONLINE))
                          ? "by phone"
                          : "online");
  } else {
    reasons.push_back(absl::StrFormat("%.1f km", c.distance_km));
  }
  if (person.access_needs().step_free() && r.access().step_free()) reasons.push_back("step-free");
  if (person.access_needs().bsl() && r.access().bsl()) reasons.push_back("BSL");
  const auto& capacity = r.capacity();
  if (capacity.places_total() > 0) {
    if (capacity.places_available() > 0) {
      reasons.push_back(absl::StrCat(capacity.places_available(), capacity.places_available() == 1
                                                                      ? " place left"
                                                                      : " places left"));
    } else {
      reasons.push_back("waitlist open");
    }
  }
  const std::string& language = person.preferred_language();
  if (!language.empty() && language != "en") {
    if (Speaks(r, language)) {
      reasons.push_back(absl::StrCat("speaks ", LanguageName(language)));
    } else if (r.access().interpreter()) {
      reasons.push_back("interpreter available");
    }
  }
  if (r.free()) reasons.push_back("free");
  if (IsStale(r, policy, now)) reasons.push_back("entry not checked for over a year");
  return reasons;
}

v1::DeliveryMode ModeFor(const Candidate& c, const v1::PersonProfile& person) {
  if (!c.remote) return v1::DELIVERY_MODE_IN_PERSON;
  const v1::Resource& r = *c.resource;
  if (Offers(r, v1::DELIVERY_MODE_PHONE) &&
      (person.digitally_excluded() || !Offers(r, v1::DELIVERY_MODE_ONLINE))) {
    return v1::DELIVERY_MODE_PHONE;
  }
  return v1::DELIVERY_MODE_ONLINE;
}

}  // namespace

std::string LanguageName(const std::string& code) {
  static const auto* kNames = new std::map<std::string, std::string>{
      {"ar", "Arabic"},   {"bn", "Bengali"}, {"cy", "Welsh"},     {"en", "English"},
      {"es", "Spanish"},  {"fa", "Persian"}, {"fr", "French"},    {"gu", "Gujarati"},
      {"hi", "Hindi"},    {"it", "Italian"}, {"ku", "Kurdish"},   {"lt", "Lithuanian"},
      {"pa", "Punjabi"},  {"pl", "Polish"},  {"ps", "Pashto"},    {"pt", "Portuguese"},
      {"ro", "Romanian"}, {"ru", "Russian"}, {"so", "Somali"},    {"ta", "Tamil"},
      {"ti", "Tigrinya"}, {"tr", "Turkish"}, {"uk", "Ukrainian"}, {"ur", "Urdu"},
      {"zh", "Chinese"}};
  auto it = kNames->find(code);
  return it == kNames->end() ? code : it->second;
}

std::vector<v1::MatchedOption> RankOptions(const std::vector<Candidate>& acceptable,
                                           const v1::PersonProfile& person,
                                           const MatchPolicy& policy, absl::Time now) {
  std::vector<Scored> scored;
  scored.reserve(acceptable.size());
  for (const auto& c : acceptable) scored.push_back({&c, Score(c, person, policy, now)});
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.candidate->resource->id() < b.candidate->resource->id();
  });
  std::vector<v1::MatchedOption> out;
  for (const auto& s : scored) {
    if (static_cast<int>(out.size()) >= policy.top_k) break;
    // One resource may be found at several locations or remotely: offer it once, at its best.
    const std::string& id = s.candidate->resource->id();
    if (std::any_of(out.begin(), out.end(),
                    [&](const v1::MatchedOption& o) { return o.resource_id() == id; })) {
      continue;
    }
    v1::MatchedOption option;
    option.set_resource_id(id);
    option.set_resource_name(s.candidate->resource->name());
    option.set_score(std::round(s.score * 1000.0) / 1000.0);
    option.set_distance_m(s.candidate->remote ? 0.0
                                              : std::round(s.candidate->distance_km * 1000.0));
    option.set_delivery_mode(ModeFor(*s.candidate, person));
    for (auto& reason : Reasons(*s.candidate, person, policy, now)) option.add_reasons(reason);
    out.push_back(std::move(option));
  }
  return out;
}

}  // namespace signpost::matching
