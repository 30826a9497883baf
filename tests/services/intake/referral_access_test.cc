#include "services/intake/referral_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_tokens.h"

namespace signpost::intake {
namespace {

using ::signpost::testing::LinkWorker;
using ::signpost::testing::Ops;
using ::signpost::testing::Referrer;
using ::testing::HasSubstr;
using ::testing::Not;

v1::Referral From(const std::string& ods) {
  v1::Referral referral;
  referral.mutable_referrer()->set_ods_code(ods);
  return referral;
}

TEST(ReferralAccessTest, AReferrerSubmitsForItsOwnOrganisationsOnly) {
  auto gp = Referrer({"A81001", "A81002"});
  EXPECT_TRUE(CanSubmit(gp, From("A81002")).ok());
  absl::Status other = CanSubmit(gp, From("B82001"));
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.message()), HasSubstr("referrer.ods_code"));
  EXPECT_THAT(std::string(other.message()), Not(HasSubstr("B82001")));
  EXPECT_EQ(CanSubmit(LinkWorker("lw-1", "n"), From("A81001")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CanSubmit(Ops(), From("A81001")).code(), absl::StatusCode::kPermissionDenied);
}

TEST(ReferralAccessTest, AReferrerSeesAndWithdrawsOnlyReferralsItMade) {
  auto gp = Referrer({"A81001"});
  EXPECT_TRUE(CanSeeReferral(gp, "A81001", "IntakeService/GetReferral").ok());
  absl::Status other = CanSeeReferral(gp, "B82001", "IntakeService/WithdrawReferral");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.message()), Not(HasSubstr("B82001")));
  EXPECT_EQ(CanAskAboutReferrals(Ops(), "IntakeService/GetReferral").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ReferralAccessTest, WithoutAuthenticationEveryCallIsLetThrough) {
  EXPECT_TRUE(CanSubmit(auth::DevelopmentCaller(), From("B82001")).ok());
  EXPECT_TRUE(
      CanSeeReferral(auth::DevelopmentCaller(), "B82001", "IntakeService/GetReferral").ok());
}

}  // namespace
}  // namespace signpost::intake
