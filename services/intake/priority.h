#pragma once

#include <set>
#include <string>
#include <vector>

#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// Who is flagged priority (NHS England Core20PLUS5): the 20% most deprived areas and locally
// chosen PLUS groups. Configurable per deployment.
struct PriorityPolicy {
  std::set<int> deprived_imd_deciles = {1, 2};
  std::set<v1::InclusionGroup> plus_groups = {
      v1::INCLUSION_GROUP_CARER,
      v1::INCLUSION_GROUP_VETERAN,
      v1::INCLUSION_GROUP_ETHNIC_MINORITY,
      v1::INCLUSION_GROUP_EXPERIENCING_HOMELESSNESS,
      v1::INCLUSION_GROUP_GYPSY_ROMA_TRAVELLER,
      v1::INCLUSION_GROUP_VULNERABLE_MIGRANT,
      v1::INCLUSION_GROUP_LEARNING_DISABILITY_OR_AUTISM,
  };
};

struct Priority {
  v1::Urgency urgency = v1::URGENCY_ROUTINE;
  std::vector<std::string> reasons;  // why it is priority; empty when routine
};

// Pure. A person counts as an ethnic minority when their ethnic category is stated and is not
// White British, as well as when the group is listed.
Priority AssessPriority(const v1::Referral& referral, const PriorityPolicy& policy);

}  // namespace signpost::intake
