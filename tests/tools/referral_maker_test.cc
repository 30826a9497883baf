#include "tools/demo/referral_maker.h"

#include <gtest/gtest.h>

#include <set>

#include "services/intake/referral_validation.h"

namespace signpost::demo {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), absl::UTCTimeZone());

TEST(ReferralMakerTest, EveryReferralIsOneIntakeAccepts) {
  region::Region region = region::GenerateRegion(7, 300);
  ReferralMaker maker(region, 1);
  std::set<std::string> ids;
  std::set<int> needs_seen;
  for (int i = 0; i < 2000; ++i) {
    v1::Referral r = intake::NormaliseReferral(maker.Make("gp-demo", kNow), kNow);
    auto violations = intake::ValidateReferral(r, kNow);
    ASSERT_TRUE(violations.empty())
        << i << ": " << violations[0].field << " " << violations[0].description << "\n"
        << r.DebugString();
    EXPECT_TRUE(ids.insert(r.source_referral_id()).second) << "repeated source id";
    for (const auto& n : r.needs()) needs_seen.insert(n.category());
  }
  EXPECT_EQ(needs_seen.size(), 18u);  // every need turns up
}

TEST(ReferralMakerTest, FaultyReferralsAreRefusedAndTheSameSeedGivesTheSameReferrals) {
  region::Region region = region::GenerateRegion(7, 300);
  ReferralMaker maker(region, 2), again(region, 2);
  for (int i = 0; i < 200; ++i) {
    v1::Referral r = intake::NormaliseReferral(maker.MakeFaulty("gp-demo", kNow), kNow);
    EXPECT_FALSE(intake::ValidateReferral(r, kNow).empty()) << r.DebugString();
    v1::Referral twin = intake::NormaliseReferral(again.MakeFaulty("gp-demo", kNow), kNow);
    EXPECT_EQ(r.SerializeAsString(), twin.SerializeAsString());
  }
}

}  // namespace
}  // namespace signpost::demo
