#include "services/matching/referral_matcher.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/matching/ranking.h"

namespace signpost::matching {
namespace {

std::string UnmetReason(Exclusion::Kind kind) {
  switch (kind) {
    case Exclusion::Kind::kReach:
      return "none within reach";
    case Exclusion::Kind::kCapacity:
      return "none with capacity";
    case Exclusion::Kind::kEligibility:
      return "none eligible";
    case Exclusion::Kind::kLanguage:
      return "none in the person's language";
    case Exclusion::Kind::kAccess:
      return "none with the access needed";
    case Exclusion::Kind::kInactive:
      return "none active";
    case Exclusion::Kind::kStale:
      return "none assured recently";
  }
  return "none suitable";
}

}  // namespace

MatchOutcome MatchReferral(const v1::ReferralReceived& received, const PersonLocation& location,
                           const std::vector<std::vector<Candidate>>& candidates_per_need,
                           const Assignment& assignment, const MatchPolicy& policy,
                           absl::Time now) {
  const v1::Referral& referral = received.referral();
  const v1::PersonProfile& person = referral.profile();
  MatchOutcome out;
  v1::ReferralMatched& matched = out.matched;
  *matched.mutable_referral() = referral;
  matched.set_priority(received.priority());
  matched.set_link_worker_id(assignment.link_worker_id);
  matched.set_network_id(assignment.network_id);
  for (const auto& r : assignment.reasons) matched.add_assignment_reasons(r);
  switch (location.basis) {
    case PersonLocation::Basis::kPostcode:
      matched.set_location_basis("postcode");
      break;
    case PersonLocation::Basis::kDistrict:
      matched.set_location_basis("district");
      break;
    case PersonLocation::Basis::kNone:
      matched.set_location_basis("none");
      break;
  }
  if (location.basis != PersonLocation::Basis::kNone) *matched.mutable_location() = location.point;
  // GP systems often send no deprivation decile. The home postcode gives one (postcode -> LSOA ->
  // IMD decile), so the equity reports and everything after matching see Core20 either way. A
  // district's figures describe no one's area, what the referrer sent is kept, and the two are
  // taken together: a decile belongs to its LSOA, so none is taken for another LSOA the referral
  // names, and no LSOA is added beside a decile the referrer sent.
  v1::PersonProfile* profile = matched.mutable_referral()->mutable_profile();
  if (location.basis == PersonLocation::Basis::kPostcode && profile->imd_decile() == 0 &&
      (profile->lsoa_code().empty() || profile->lsoa_code() == location.lsoa_code)) {
    if (profile->lsoa_code().empty()) profile->set_lsoa_code(location.lsoa_code);
    if (location.imd_decile >= 1 && location.imd_decile <= 10) {
      profile->set_imd_decile(location.imd_decile);
      profile->set_imd_edition(policy.imd_edition);
      if (policy.priority_imd_deciles.contains(location.imd_decile) &&
          matched.priority() != v1::URGENCY_PRIORITY) {
        matched.set_priority(v1::URGENCY_PRIORITY);
        matched.add_priority_reasons(absl::StrCat("Core20: IMD decile ", location.imd_decile, " (",
                                                  policy.imd_edition, ", from the postcode)"));
      }
    }
  }

  for (int i = 0; i < referral.needs_size(); ++i) {
    const v1::Need& need = referral.needs(i);
    const auto& candidates = i < static_cast<int>(candidates_per_need.size())
                                 ? candidates_per_need[i]
                                 : std::vector<Candidate>{};
    std::vector<Candidate> acceptable;
    std::map<Exclusion::Kind, int> excluded;
    for (const auto& c : candidates) {
      if (auto why = WhyExcluded(c, person, need.category(), policy, now)) {
        ++excluded[why->kind];
      } else {
        acceptable.push_back(c);
      }
    }
    v1::NeedMatch* need_match = matched.add_needs();
    *need_match->mutable_need() = need;
    for (auto& option : RankOptions(acceptable, person, policy, now)) {
      *need_match->add_options() = std::move(option);
    }
    if (need_match->options_size() > 0) continue;

    v1::NeedUnmet unmet;
    *unmet.mutable_need() = need;
    unmet.set_postcode_district(person.postcode_district());
    unmet.set_lsoa_code(location.lsoa_code.empty() ? person.lsoa_code() : location.lsoa_code);
    unmet.set_imd_decile(location.imd_decile ? location.imd_decile : person.imd_decile());
    if (candidates.empty()) unmet.add_reasons("none within reach");
    for (const auto& [kind, count] : excluded) {
      unmet.add_reasons(absl::StrCat(UnmetReason(kind), " (", count,
                                     count == 1 ? " resource excluded)" : " resources excluded)"));
    }
    if (location.basis == PersonLocation::Basis::kNone) {
      unmet.add_reasons("postcode unknown: only online and phone options were considered");
    }
    out.unmet.push_back({i, std::move(unmet)});
  }
  return out;
}

}  // namespace signpost::matching
