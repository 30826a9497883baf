#include "tools/demo/referral_maker.h"

#include <gtest/gtest.h>

#include <map>
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

// Referrals come from where people live: the share from England's most deprived fifth (Core20)
// is the region's share of people living there, as the dashboard compares.
TEST(ReferralMakerTest, ReferralsComeFromEachDecileAsTheRegionsPeopleDo) {
  region::Region region = region::GenerateRegion(7, 300);
  std::map<std::string, int> decile;
  for (const auto& p : region.postcodes) decile[p.postcode] = p.imd_decile;
  ReferralMaker maker(region, 3);
  int core20 = 0;
  const int kReferrals = 20000;
  for (int i = 0; i < kReferrals; ++i) {
    if (decile.at(maker.Make("gp-demo", kNow).identity().postcode()) <= 2) ++core20;
  }
  EXPECT_NEAR(static_cast<double>(core20) / kReferrals, region.core20_population_share, 0.015);
}

}  // namespace
}  // namespace signpost::demo
