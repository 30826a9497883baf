#include "services/intake/referral_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "tests/services/intake/referral_builder.h"

namespace signpost::intake {
namespace {

using ::testing::Contains;
using ::testing::Field;
using testing::TestNow;
using testing::ValidReferral;

std::vector<FieldViolation> Check(const v1::Referral& r) {
  return ValidateReferral(NormaliseReferral(r, TestNow()), TestNow());
}

TEST(ReferralValidationTest, TheValidReferralIsValid) {
  EXPECT_THAT(Check(ValidReferral()), ::testing::IsEmpty());
}

TEST(ReferralValidationTest, NormalisationCanonicalisesAndDerives) {
  v1::Referral r = NormaliseReferral(ValidReferral(), TestNow());
  EXPECT_EQ(r.identity().nhs_number(), "9434765919");
  EXPECT_EQ(r.identity().postcode(), "LS6 1BD");
  EXPECT_EQ(r.profile().home_postcode(), "LS6 1BD");
  EXPECT_EQ(r.profile().postcode_district(), "LS6");
  EXPECT_EQ(r.profile().age_years(), 78);
}

struct Case {
  const char* name;
  std::function<void(v1::Referral&)> mutate;
  const char* field;
};

TEST(ReferralValidationTest, EachViolationNamesItsField) {
  const Case cases[] = {
      {"bad NHS check digit",
       [](v1::Referral& r) { r.mutable_identity()->set_nhs_number("9434765918"); },
       "identity.nhs_number"},
      {"sealed details from a submitter",
       [](v1::Referral& r) { r.mutable_sealed()->set_key_id("k1"); }, "sealed"},
      {"short NHS number", [](v1::Referral& r) { r.mutable_identity()->set_nhs_number("94347"); },
       "identity.nhs_number"},
      {"no NHS number and no reason",
       [](v1::Referral& r) { r.mutable_identity()->clear_nhs_number(); }, "identity.nhs_number"},
      {"NHS number and absence reason",
       [](v1::Referral& r) {
         r.mutable_identity()->set_nhs_number_absence(v1::NHS_NUMBER_ABSENCE_NOT_KNOWN);
       },
       "identity.nhs_number_absence"},
      {"unknown absence reason",
       [](v1::Referral& r) {
         r.mutable_identity()->clear_nhs_number();
         r.mutable_identity()->set_nhs_number_absence(static_cast<v1::NhsNumberAbsence>(77));
       },
       "identity.nhs_number_absence"},
      {"birth in the future",
       [](v1::Referral& r) { r.mutable_identity()->mutable_date_of_birth()->set_year(2030); },
       "identity.date_of_birth"},
      {"implausible age",
       [](v1::Referral& r) { r.mutable_identity()->mutable_date_of_birth()->set_year(1890); },
       "identity.date_of_birth"},
      {"31 February",
       [](v1::Referral& r) {
         r.mutable_identity()->mutable_date_of_birth()->set_month(2);
         r.mutable_identity()->mutable_date_of_birth()->set_day(31);
       },
       "identity.date_of_birth"},
      {"no date of birth", [](v1::Referral& r) { r.mutable_identity()->clear_date_of_birth(); },
       "identity.date_of_birth"},
      {"malformed postcode", [](v1::Referral& r) { r.mutable_identity()->set_postcode("LS6 XYZ"); },
       "identity.postcode"},
      {"malformed home postcode",
       [](v1::Referral& r) { r.mutable_profile()->set_home_postcode("NOWHERE"); },
       "profile.home_postcode"},
      {"bad ODS code", [](v1::Referral& r) { r.mutable_referrer()->set_ods_code("12"); },
       "referrer.ods_code"},
      {"no referrer role",
       [](v1::Referral& r) { r.mutable_referrer()->set_role(v1::REFERRER_ROLE_UNSPECIFIED); },
       "referrer.role"},
      {"unknown referrer role",
       [](v1::Referral& r) { r.mutable_referrer()->set_role(static_cast<v1::ReferrerRole>(99)); },
       "referrer.role"},
      {"no source system", [](v1::Referral& r) { r.clear_source_system(); }, "source_system"},
      {"pipe in source id", [](v1::Referral& r) { r.set_source_referral_id("a|b"); },
       "source_referral_id"},
      {"no needs", [](v1::Referral& r) { r.clear_needs(); }, "needs"},
      {"too many needs",
       [](v1::Referral& r) {
         for (int i = 0; i < 10; ++i) *r.add_needs() = r.needs(0);
       },
       "needs"},
      {"need without category",
       [](v1::Referral& r) { r.mutable_needs(1)->set_category(v1::NEED_CATEGORY_UNSPECIFIED); },
       "needs[1].category"},
      {"unknown need category",
       [](v1::Referral& r) {
         r.mutable_needs(0)->set_category(static_cast<v1::NeedCategory>(500));
       },
       "needs[0].category"},
      {"bad SNOMED code", [](v1::Referral& r) { r.mutable_needs(0)->set_snomed_code("267076003"); },
       "needs[0].snomed_code"},
      {"long need text",
       [](v1::Referral& r) { r.mutable_needs(2)->set_description(std::string(501, 'x')); },
       "needs[2].description"},
      {"IMD decile out of range", [](v1::Referral& r) { r.mutable_profile()->set_imd_decile(11); },
       "profile.imd_decile"},
      {"IMD decile without edition",
       [](v1::Referral& r) { r.mutable_profile()->set_imd_decile(2); }, "profile.imd_edition"},
      {"language not ISO 639-1",
       [](v1::Referral& r) { r.mutable_profile()->set_preferred_language("polish"); },
       "profile.preferred_language"},
      {"unknown sex",
       [](v1::Referral& r) { r.mutable_profile()->set_sex(static_cast<v1::Sex>(9)); },
       "profile.sex"},
      {"unknown inclusion group",
       [](v1::Referral& r) {
         r.mutable_profile()->add_inclusion_groups(v1::INCLUSION_GROUP_UNSPECIFIED);
       },
       "profile.inclusion_groups[1]"},
      {"consent without time", [](v1::Referral& r) { r.mutable_consent()->clear_recorded_at(); },
       "consent.recorded_at"},
      {"no name",
       [](v1::Referral& r) {
         r.mutable_identity()->clear_given_name();
         r.mutable_identity()->clear_family_name();
       },
       "identity.family_name"},
      {"bad email", [](v1::Referral& r) { r.mutable_identity()->set_email("nobody"); },
       "identity.email"},
      {"unknown urgency", [](v1::Referral& r) { r.set_urgency(static_cast<v1::Urgency>(8)); },
       "urgency"},
  };
  for (const auto& c : cases) {
    v1::Referral r = ValidReferral();
    c.mutate(r);
    auto violations = Check(r);
    EXPECT_THAT(violations, Contains(Field(&FieldViolation::field, c.field))) << c.name;
    EXPECT_EQ(ValidationStatus(violations).code(), absl::StatusCode::kInvalidArgument) << c.name;
  }
}

TEST(ReferralValidationTest, NoNhsNumberIsFineWithAStatedReason) {
  v1::Referral r = ValidReferral();
  r.mutable_identity()->clear_nhs_number();
  r.mutable_identity()->set_nhs_number_absence(v1::NHS_NUMBER_ABSENCE_NOT_REGISTERED_WITH_GP);
  EXPECT_THAT(Check(r), ::testing::IsEmpty());
}

TEST(ReferralValidationTest, NoPostcodeAtAllIsAllowed) {
  v1::Referral r = ValidReferral();
  r.mutable_identity()->clear_postcode();
  EXPECT_THAT(Check(r), ::testing::IsEmpty());
}

TEST(ReferralValidationTest, MissingConsentAloneIsAFailedPrecondition) {
  v1::Referral r = ValidReferral();
  r.mutable_consent()->set_referral_consent(false);
  auto violations = Check(r);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, kConsentField);
  EXPECT_EQ(ValidationStatus(violations).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ReferralValidationTest, EveryViolationIsReportedAtOnce) {
  v1::Referral r = ValidReferral();
  r.mutable_identity()->set_nhs_number("123");
  r.mutable_identity()->set_postcode("nope");
  r.mutable_consent()->set_referral_consent(false);
  r.clear_needs();
  auto violations = Check(r);
  EXPECT_EQ(violations.size(), 4u);
  absl::Status status = ValidationStatus(violations);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(status).size(), 4u);
}

// Issue 22, item 13: thousands of bad values give one violation for the count, the first few
// each named, and a count of what was not listed.
TEST(ReferralValidationTest, ThousandsOfBadValuesAreCappedAndCounted) {
  v1::Referral r = ValidReferral();
  for (int i = 0; i < 20000; ++i) {
    r.mutable_profile()->add_inclusion_groups(static_cast<v1::InclusionGroup>(99));
  }
  int64_t unlisted = -1;
  auto violations = ValidateReferral(NormaliseReferral(r, TestNow()), TestNow(), {}, &unlisted);
  EXPECT_THAT(violations, Contains(Field(&FieldViolation::field, "profile.inclusion_groups")));
  EXPECT_LE(violations.size(), 20u);
  EXPECT_EQ(unlisted, 0);
  absl::Status status = ValidationStatus(violations, unlisted);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("20001 entries; at most 16"));

  absl::Status counted = ValidationStatus(violations, 5000);
  EXPECT_EQ(counted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(counted.message()), ::testing::HasSubstr("the first"));
}

}  // namespace
}  // namespace signpost::intake
