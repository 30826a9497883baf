#include "common/crypto/personal_details_cipher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace signpost::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNew[] = "FBjYD96JHjJy74ARlptU/nWyJpqYif9mfcOv+EJtuNs=";
constexpr char kOld[] = "OzcwFq9sxzEc4rwsj0QELyZu0KwFFDGcNh2fW/M/7Hw=";
constexpr char kHash[] = "lamVNzfT0soPpxaVvqT2MF/6Jy5rcAhpF+4uOXrpOe0=";

DataKeyring Ring(const std::string& lines) { return *DataKeyring::Parse(lines); }

v1::Referral Referral() {
  v1::Referral r;
  r.set_source_referral_id("EMIS-1");
  auto* id = r.mutable_identity();
  id->set_nhs_number("9434765919");
  id->set_given_name("Amina");
  id->set_family_name("Begum");
  id->set_phone("07700900123");
  id->mutable_date_of_birth()->set_year(1951);
  id->mutable_date_of_birth()->set_month(3);
  id->mutable_date_of_birth()->set_day(4);
  id->set_postcode("LS6 1BD");
  r.set_notes("Lives alone since her husband died.");
  r.mutable_profile()->set_postcode_district("LS6");
  return r;
}

class CipherTest : public ::testing::Test {
 protected:
  // k2-copy has k2's bytes: only the key id in the authenticated data tells them apart.
  DataKeyring ring_ =
      Ring(absl::StrCat("data-key k2 ", kNew, "\ndata-key k1 ", kOld, "\ndata-key k2-copy ", kNew,
                        "\nperson-hash-key ", kHash, "\n"));
  PersonalDetailsCipher cipher_{ring_};
};

TEST_F(CipherTest, SealedDetailsLeaveNothingReadableAndOpenToTheSame) {
  v1::Referral r = Referral();
  ASSERT_TRUE(cipher_.Seal(r, "ref-1").ok());
  EXPECT_FALSE(r.has_identity());
  EXPECT_TRUE(r.notes().empty());
  EXPECT_EQ(r.profile().postcode_district(), "LS6");  // what matching needs stays readable
  EXPECT_EQ(r.sealed().key_id(), "k2");
  EXPECT_EQ(r.sealed().nonce().size(), 12u);
  std::string wire = r.SerializeAsString();
  for (const char* planted : {"9434765919", "Amina", "Begum", "07700900123", "husband"}) {
    EXPECT_EQ(wire.find(planted), std::string::npos) << planted;
  }
  ASSERT_TRUE(cipher_.Open(r, "ref-1").ok());
  EXPECT_FALSE(r.has_sealed());
  v1::Referral original = Referral();
  EXPECT_EQ(r.SerializeAsString(), original.SerializeAsString());
}

TEST_F(CipherTest, EachSealingUsesAFreshNonce) {
  v1::Referral a = Referral(), b = Referral();
  ASSERT_TRUE(cipher_.Seal(a, "ref-1").ok());
  ASSERT_TRUE(cipher_.Seal(b, "ref-1").ok());
  EXPECT_NE(a.sealed().nonce(), b.sealed().nonce());
  EXPECT_NE(a.sealed().ciphertext(), b.sealed().ciphertext());
}

TEST_F(CipherTest, DetailsSealedWithAnOlderKeyStillOpenAfterRotation) {
  DataKeyring before = Ring(absl::StrCat("data-key k1 ", kOld, "\nperson-hash-key ", kHash));
  PersonalDetailsCipher old_cipher(before);
  v1::Referral r = Referral();
  ASSERT_TRUE(old_cipher.Seal(r, "ref-9").ok());
  EXPECT_EQ(r.sealed().key_id(), "k1");
  ASSERT_TRUE(cipher_.Open(r, "ref-9").ok());
  EXPECT_EQ(r.identity().nhs_number(), "9434765919");
}

TEST_F(CipherTest, AKeyTheKeyringLacksIsAFailedPreconditionNamingOnlyTheKeyId) {
  DataKeyring other = Ring(absl::StrCat("data-key k3 ", kNew, "\nperson-hash-key ", kHash));
  v1::Referral r = Referral();
  ASSERT_TRUE(PersonalDetailsCipher(other).Seal(r, "ref-1").ok());
  absl::Status s = cipher_.Open(r, "ref-1");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("'k3'"));
  EXPECT_TRUE(r.has_sealed());  // left as it was, for a dead letter and a replay
}

TEST_F(CipherTest, AlteredOrMovedDetailsDoNotOpen) {
  v1::Referral r = Referral();
  ASSERT_TRUE(cipher_.Seal(r, "ref-1").ok());
  struct Case {
    const char* name;
    std::function<void(v1::Referral&)> change;
    std::string referral_id;
  };
  const Case cases[] = {
      {"another referral's id", [](v1::Referral&) {}, "ref-2"},
      {"a flipped ciphertext bit",
       [](v1::Referral& x) { (*x.mutable_sealed()->mutable_ciphertext())[3] ^= 1; }, "ref-1"},
      {"a flipped tag bit",
       [](v1::Referral& x) {
         auto& c = *x.mutable_sealed()->mutable_ciphertext();
         c.back() ^= 1;
       },
       "ref-1"},
      {"relabelled with a key of the same bytes",
       [](v1::Referral& x) { x.mutable_sealed()->set_key_id("k2-copy"); }, "ref-1"},
      {"another person's reference",
       [](v1::Referral& x) { x.mutable_sealed()->set_person_ref(std::string(64, 'a')); }, "ref-1"},
      {"a short nonce", [](v1::Referral& x) { x.mutable_sealed()->set_nonce("abc"); }, "ref-1"},
      {"no ciphertext", [](v1::Referral& x) { x.mutable_sealed()->clear_ciphertext(); }, "ref-1"},
  };
  for (const Case& c : cases) {
    v1::Referral copy = r;
    c.change(copy);
    absl::Status s = cipher_.Open(copy, c.referral_id);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.name << ": " << s;
    EXPECT_FALSE(copy.has_identity()) << c.name;
  }
}

TEST_F(CipherTest, AReferralWithNothingSealedIsLeftAsItIs) {
  v1::Referral r = Referral();
  ASSERT_TRUE(cipher_.Open(r, "ref-1").ok());
  EXPECT_EQ(r.identity().nhs_number(), "9434765919");
}

TEST_F(CipherTest, ThePersonRefRecognisesThePersonWithoutSayingWhoItIs) {
  v1::PersonIdentity a = Referral().identity();
  v1::PersonIdentity spaced = a;
  spaced.set_nhs_number("943 476 5919");
  std::string ref = *cipher_.PersonRef(a);
  EXPECT_EQ(ref.size(), 64u);
  EXPECT_EQ(*cipher_.PersonRef(spaced), ref);
  EXPECT_THAT(ref, Not(HasSubstr("9434765919")));
  // Another keyring's hash key gives another reference for the same person.
  DataKeyring other = Ring(absl::StrCat("data-key k2 ", kNew, "\nperson-hash-key ", kNew));
  EXPECT_NE(*PersonalDetailsCipher(other).PersonRef(a), ref);

  // No NHS number: name, date of birth and postcode, whatever their case and spacing.
  v1::PersonIdentity no_nhs = a, same = a;
  no_nhs.clear_nhs_number();
  same.clear_nhs_number();
  same.set_family_name("BEGUM");
  same.set_postcode("ls61bd");
  EXPECT_EQ(*cipher_.PersonRef(no_nhs), *cipher_.PersonRef(same));
  EXPECT_NE(*cipher_.PersonRef(no_nhs), ref);
  same.mutable_date_of_birth()->set_day(5);
  EXPECT_NE(*cipher_.PersonRef(no_nhs), *cipher_.PersonRef(same));
  EXPECT_EQ(*cipher_.PersonRef(v1::PersonIdentity()), "");
}

v1::PersonalDetails Details() {
  v1::PersonalDetails details;
  *details.mutable_identity() = Referral().identity();
  details.set_notes(Referral().notes());
  return details;
}

TEST_F(CipherTest, ARecordsDetailsSealWithTheCurrentKeyAndOpenOnlyForThatRecord) {
  auto sealed = cipher_.SealRecord(Details(), "fu:case:ref-1");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->key_id(), "k2");
  std::string stored = sealed->SerializeAsString();
  for (const char* planted : {"9434765919", "Amina", "Begum", "07700900123", "husband"}) {
    EXPECT_EQ(stored.find(planted), std::string::npos) << planted;
  }
  auto opened = cipher_.OpenRecord(*sealed, "fu:case:ref-1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->SerializeAsString(), Details().SerializeAsString());

  // Moved to another record, relabelled with another key, or altered: never opened.
  EXPECT_EQ(cipher_.OpenRecord(*sealed, "fu:case:ref-2").status().code(),
            absl::StatusCode::kDataLoss);
  v1::SealedPersonalDetails relabelled = *sealed;
  relabelled.set_key_id("k2-copy");
  EXPECT_EQ(cipher_.OpenRecord(relabelled, "fu:case:ref-1").status().code(),
            absl::StatusCode::kDataLoss);
  v1::SealedPersonalDetails altered = *sealed;
  (*altered.mutable_ciphertext())[0] ^= 1;
  EXPECT_EQ(cipher_.OpenRecord(altered, "fu:case:ref-1").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(CipherTest, ARecordAndAnEventSealedAlikeCannotPassForEachOther) {
  // A referral's sealed details, taken from the bus, are not a record's, and the other way round.
  v1::Referral r = Referral();
  ASSERT_TRUE(cipher_.Seal(r, "ref-1").ok());
  v1::SealedPersonalDetails from_bus = r.sealed();
  from_bus.clear_person_ref();
  EXPECT_EQ(cipher_.OpenRecord(from_bus, "ref-1").status().code(), absl::StatusCode::kDataLoss);
  v1::Referral carrying = Referral();
  carrying.clear_identity();
  *carrying.mutable_sealed() = *cipher_.SealRecord(Details(), "ref-1");
  EXPECT_EQ(cipher_.Open(carrying, "ref-1").code(), absl::StatusCode::kDataLoss);
}

TEST_F(CipherTest, ARecordSealedBeforeARotationOpensAfterItAndAMissingKeyIsNamed) {
  DataKeyring before = Ring(absl::StrCat("data-key k1 ", kOld, "\nperson-hash-key ", kHash));
  auto sealed = PersonalDetailsCipher(before).SealRecord(Details(), "fu:case:ref-9");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->key_id(), "k1");
  auto opened = cipher_.OpenRecord(*sealed, "fu:case:ref-9");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->identity().nhs_number(), "9434765919");
  // After the rotation the new first key seals.
  EXPECT_EQ(cipher_.SealRecord(Details(), "fu:case:ref-9")->key_id(), "k2");

  DataKeyring without_k1 = Ring(absl::StrCat("data-key k2 ", kNew, "\nperson-hash-key ", kHash));
  auto missing = PersonalDetailsCipher(without_k1).OpenRecord(*sealed, "fu:case:ref-9");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("'k1'"));
}

}  // namespace
}  // namespace signpost::crypto
