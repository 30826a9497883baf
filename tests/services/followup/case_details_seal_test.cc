#include "services/followup/case_details_seal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace signpost::followup {
namespace {

using ::testing::HasSubstr;

constexpr char kOld[] = "OzcwFq9sxzEc4rwsj0QELyZu0KwFFDGcNh2fW/M/7Hw=";
constexpr char kNew[] = "FBjYD96JHjJy74ARlptU/nWyJpqYif9mfcOv+EJtuNs=";
constexpr char kHash[] = "lamVNzfT0soPpxaVvqT2MF/6Jy5rcAhpF+4uOXrpOe0=";

v1::Case WithDetails(const std::string& referral_id) {
  v1::Case kase;
  kase.set_referral_id(referral_id);
  kase.mutable_identity()->set_nhs_number("9434765919");
  kase.mutable_identity()->set_phone("07700 900461");
  kase.set_referral_notes("Prefers a call after 10am.");
  kase.set_plan("walking group on Tuesdays");
  return kase;
}

TEST(CaseDetailsSealTest, SealedDetailsLeaveTheCaseAndOpenToTheSame) {
  auto ring =
      *crypto::DataKeyring::Parse(absl::StrCat("data-key k1 ", kOld, "\nperson-hash-key ", kHash));
  crypto::PersonalDetailsCipher cipher(ring);
  CaseDetailsSeal seal(cipher);
  v1::Case kase = WithDetails("r-1");
  ASSERT_TRUE(seal.Seal(kase).ok());
  EXPECT_FALSE(kase.has_identity());
  EXPECT_TRUE(kase.referral_notes().empty());
  EXPECT_EQ(kase.sealed_details().key_id(), "k1");
  EXPECT_EQ(kase.plan(), "walking group on Tuesdays");  // the rest of the case as it was
  const std::string stored = kase.SerializeAsString();
  for (const char* planted : {"9434765919", "07700 900461", "10am"}) {
    EXPECT_EQ(stored.find(planted), std::string::npos) << planted;
  }
  // Nothing in clear to seal: what was sealed stays as it is.
  const std::string sealed = kase.sealed_details().SerializeAsString();
  ASSERT_TRUE(seal.Seal(kase).ok());
  EXPECT_EQ(kase.sealed_details().SerializeAsString(), sealed);

  ASSERT_TRUE(seal.Open(kase).ok());
  EXPECT_FALSE(kase.has_sealed_details());
  EXPECT_EQ(kase.SerializeAsString(), WithDetails("r-1").SerializeAsString());
  // A case with nothing sealed (purged, or from before sealing) opens as it is.
  v1::Case purged;
  purged.set_referral_id("r-2");
  ASSERT_TRUE(seal.Open(purged).ok());
  EXPECT_FALSE(purged.has_identity());
}

TEST(CaseDetailsSealTest, DetailsOpenAfterRotationOnlyForTheirOwnCase) {
  auto before =
      *crypto::DataKeyring::Parse(absl::StrCat("data-key k1 ", kOld, "\nperson-hash-key ", kHash));
  auto after = *crypto::DataKeyring::Parse(
      absl::StrCat("data-key k2 ", kNew, "\ndata-key k1 ", kOld, "\nperson-hash-key ", kHash));
  crypto::PersonalDetailsCipher old_cipher(before), new_cipher(after);
  v1::Case kase = WithDetails("r-1");
  ASSERT_TRUE(CaseDetailsSeal(old_cipher).Seal(kase).ok());

  // Moved onto another case: it does not open, and the message names the case, not the person.
  v1::Case moved = kase;
  moved.set_referral_id("r-2");
  absl::Status refused = CaseDetailsSeal(new_cipher).Open(moved);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("case r-2"));
  EXPECT_EQ(std::string(refused.message()).find("9434765919"), std::string::npos);

  // The old key opens after the rotation; the new one seals what is sealed anew.
  v1::Case opened = kase;
  ASSERT_TRUE(CaseDetailsSeal(new_cipher).Open(opened).ok());
  EXPECT_EQ(opened.identity().nhs_number(), "9434765919");
  ASSERT_TRUE(CaseDetailsSeal(new_cipher).Seal(opened).ok());
  EXPECT_EQ(opened.sealed_details().key_id(), "k2");

  // A keyring without the key that sealed them: FAILED_PRECONDITION naming the key.
  auto only_new =
      *crypto::DataKeyring::Parse(absl::StrCat("data-key k2 ", kNew, "\nperson-hash-key ", kHash));
  crypto::PersonalDetailsCipher new_only(only_new);
  absl::Status missing = CaseDetailsSeal(new_only).Open(kase);
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("'k1'"));
}

}  // namespace
}  // namespace signpost::followup
