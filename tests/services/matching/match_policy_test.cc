#include "services/matching/match_policy.h"

#include <gtest/gtest.h>

namespace signpost::matching {
namespace {

TEST(MatchPolicyTest, PerNeedRadiusOverridesTheDefaultAndTransportBarrierNarrowsIt) {
  MatchPolicy policy;
  policy.default_radius_km = 5;
  ASSERT_TRUE(
      ParseNeedRadii({"physical_activity=3", " Debt_And_Money =12.5"}, policy.radius_km).ok());
  EXPECT_DOUBLE_EQ(policy.RadiusKm(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY, false), 3);
  EXPECT_DOUBLE_EQ(policy.RadiusKm(v1::NEED_CATEGORY_DEBT_AND_MONEY, false), 12.5);
  EXPECT_DOUBLE_EQ(policy.RadiusKm(v1::NEED_CATEGORY_LONELINESS, false), 5);
  EXPECT_DOUBLE_EQ(policy.RadiusKm(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY, true), 1.5);
}

TEST(MatchPolicyTest, BadNeedRadiiSayWhatIsWrong) {
  struct Case {
    std::string entry;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{{"physical_activity", "expected NEED=KM"},
                                         {"swimming=3", "unknown need category 'swimming'"},
                                         {"unspecified=3", "unknown need category"},
                                         {"housing=far", "radius must be a number"},
                                         {"housing=0", "radius must be a number"},
                                         {"housing=500", "radius must be a number"}}) {
    std::map<v1::NeedCategory, double> radii;
    absl::Status s = ParseNeedRadii({c.entry}, radii);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.entry;
    EXPECT_NE(s.message().find(c.says), absl::string_view::npos) << s.message();
    EXPECT_TRUE(radii.empty()) << c.entry;
  }
}

}  // namespace
}  // namespace signpost::matching
