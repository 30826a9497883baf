#include "services/intake/sender_identity.h"

#include <gtest/gtest.h>

#include "tests/services/intake/referral_builder.h"

namespace signpost::intake {
namespace {

TEST(SenderIdentityTest, OnlyWellFormedPartsAreKept) {
  SenderIdentity sender = WellFormed({"emis leeds", "EMIS|1", "b86001"});
  EXPECT_EQ(sender.source_system, "");
  EXPECT_EQ(sender.source_referral_id, "");
  EXPECT_EQ(sender.referrer_ods_code, "B86001");
  EXPECT_TRUE(sender.CanBeTold());
  EXPECT_FALSE(WellFormed({std::string(65, 's'), "", "NOT AN ODS CODE"}).CanBeTold());
}

TEST(SenderIdentityTest, AReferralNamesItsSender) {
  SenderIdentity sender = SenderOf(testing::ValidReferral());
  EXPECT_EQ(sender.source_system, "emis-leeds-north");
  EXPECT_EQ(sender.source_referral_id, "EMIS-2026-000123");
  EXPECT_EQ(sender.referrer_ods_code, "B86001");
}

TEST(SenderIdentityTest, AKafkaKeyNamesTheSystemAndItsReferralId) {
  SenderIdentity sender = SenderFromKafkaKey("emis-leeds-north/EMIS-1/part");
  EXPECT_EQ(sender.source_system, "emis-leeds-north");
  EXPECT_EQ(sender.source_referral_id, "EMIS-1/part");
  EXPECT_EQ(sender.referrer_ods_code, "");
  EXPECT_EQ(SenderFromKafkaKey("emis-leeds-north").source_system, "emis-leeds-north");
  EXPECT_FALSE(SenderFromKafkaKey("").CanBeTold());
  EXPECT_FALSE(SenderFromKafkaKey("not a system/1").CanBeTold());
}

TEST(SenderIdentityTest, GapsAreFilledAndAReferralIdOnlyBesideItsOwnSystem) {
  SenderIdentity filled = FilledFrom({"", "", "B86001"}, {"emis", "E-1", "C81001"});
  EXPECT_EQ(filled.source_system, "emis");
  EXPECT_EQ(filled.source_referral_id, "E-1");
  EXPECT_EQ(filled.referrer_ods_code, "B86001");
  EXPECT_EQ(FilledFrom({"tpp", "", ""}, {"emis", "E-1", ""}).source_referral_id, "");
  EXPECT_EQ(FilledFrom({"emis", "", ""}, {"emis", "E-1", ""}).source_referral_id, "E-1");
}

}  // namespace
}  // namespace signpost::intake
