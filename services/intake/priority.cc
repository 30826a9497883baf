#include "services/intake/priority.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace signpost::intake {
namespace {

std::string GroupName(v1::InclusionGroup group) {
  std::string name = v1::InclusionGroup_Name(group);
  absl::string_view trimmed(name);
  trimmed.remove_prefix(std::string("INCLUSION_GROUP_").size());
  return absl::AsciiStrToLower(absl::StrReplaceAll(trimmed, {{"_", " "}}));
}

}  // namespace

Priority AssessPriority(const v1::Referral& referral, const PriorityPolicy& policy) {
  Priority out;
  if (referral.urgency() == v1::URGENCY_PRIORITY)
    out.reasons.push_back("marked urgent by referrer");
  const auto& profile = referral.profile();
  if (policy.deprived_imd_deciles.contains(profile.imd_decile())) {
    out.reasons.push_back(absl::StrCat(
        "Core20: IMD decile ", profile.imd_decile(), profile.imd_edition().empty() ? "" : " (",
        profile.imd_edition(), profile.imd_edition().empty() ? "" : ")"));
  }
  std::set<v1::InclusionGroup> groups;
  for (int g : profile.inclusion_groups()) groups.insert(static_cast<v1::InclusionGroup>(g));
  auto category = profile.ethnic_category();
  if (category != v1::ETHNIC_CATEGORY_UNSPECIFIED &&
      category != v1::ETHNIC_CATEGORY_WHITE_BRITISH && category != v1::ETHNIC_CATEGORY_NOT_STATED) {
    groups.insert(v1::INCLUSION_GROUP_ETHNIC_MINORITY);
  }
  for (auto group : groups) {
    if (policy.plus_groups.contains(group)) {
      out.reasons.push_back(absl::StrCat("PLUS group: ", GroupName(group)));
    }
  }
  if (!out.reasons.empty()) out.urgency = v1::URGENCY_PRIORITY;
  return out;
}

}  // namespace signpost::intake
