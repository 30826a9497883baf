#include "services/intake/priority.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Referral Plain() {
  v1::Referral r;
  r.set_urgency(v1::URGENCY_ROUTINE);
  r.mutable_profile()->set_imd_decile(6);
  r.mutable_profile()->set_imd_edition("IoD2025");
  r.mutable_profile()->set_ethnic_category(v1::ETHNIC_CATEGORY_WHITE_BRITISH);
  return r;
}

TEST(PriorityTest, RoutineWhenNothingApplies) {
  Priority p = AssessPriority(Plain(), PriorityPolicy());
  EXPECT_EQ(p.urgency, v1::URGENCY_ROUTINE);
  EXPECT_THAT(p.reasons, IsEmpty());
}

TEST(PriorityTest, Core20Deciles) {
  for (int decile : {1, 2}) {
    v1::Referral r = Plain();
    r.mutable_profile()->set_imd_decile(decile);
    Priority p = AssessPriority(r, PriorityPolicy());
    EXPECT_EQ(p.urgency, v1::URGENCY_PRIORITY) << decile;
    EXPECT_THAT(p.reasons,
                ElementsAre("Core20: IMD decile " + std::to_string(decile) + " (IoD2025)"));
  }
  v1::Referral r = Plain();
  r.mutable_profile()->set_imd_decile(3);
  EXPECT_EQ(AssessPriority(r, PriorityPolicy()).urgency, v1::URGENCY_ROUTINE);
  r.mutable_profile()->set_imd_decile(0);  // unknown is not deprived
  EXPECT_EQ(AssessPriority(r, PriorityPolicy()).urgency, v1::URGENCY_ROUTINE);
}

TEST(PriorityTest, PlusGroupsAndUrgencyAllGiveReasons) {
  v1::Referral r = Plain();
  r.set_urgency(v1::URGENCY_PRIORITY);
  r.mutable_profile()->add_inclusion_groups(v1::INCLUSION_GROUP_VETERAN);
  r.mutable_profile()->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
  Priority p = AssessPriority(r, PriorityPolicy());
  EXPECT_EQ(p.urgency, v1::URGENCY_PRIORITY);
  EXPECT_THAT(p.reasons,
              ElementsAre("marked urgent by referrer", "PLUS group: carer", "PLUS group: veteran"));
}

TEST(PriorityTest, StatedMinorityEthnicityCountsWhenTheGroupIsListed) {
  v1::Referral r = Plain();
  r.mutable_profile()->set_ethnic_category(v1::ETHNIC_CATEGORY_ASIAN_BANGLADESHI);
  EXPECT_THAT(AssessPriority(r, PriorityPolicy()).reasons,
              ElementsAre("PLUS group: ethnic minority"));
  r.mutable_profile()->set_ethnic_category(v1::ETHNIC_CATEGORY_NOT_STATED);
  EXPECT_THAT(AssessPriority(r, PriorityPolicy()).reasons, IsEmpty());
}

TEST(PriorityTest, PolicyIsConfigurable) {
  PriorityPolicy policy;
  policy.deprived_imd_deciles = {1};
  policy.plus_groups = {v1::INCLUSION_GROUP_YOUNG_PERSON};
  v1::Referral r = Plain();
  r.mutable_profile()->set_imd_decile(2);
  r.mutable_profile()->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
  EXPECT_EQ(AssessPriority(r, policy).urgency, v1::URGENCY_ROUTINE);
  r.mutable_profile()->add_inclusion_groups(v1::INCLUSION_GROUP_YOUNG_PERSON);
  EXPECT_THAT(AssessPriority(r, policy).reasons, ElementsAre("PLUS group: young person"));
}

}  // namespace
}  // namespace signpost::intake
