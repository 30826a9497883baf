#include "services/intake/fhir_referral.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/time/civil_time.h"
#include "common/status/field_violations.h"
#include "services/intake/referral_validation.h"
#include "tests/services/intake/referral_builder.h"

namespace signpost::intake {
namespace {

using ::testing::Contains;
using ::testing::Field;

std::string SampleBundle() {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) +
                   "/tests/services/intake/data/referral_bundle.json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FhirReferralTest, SampleBundleMapsToItsProtobufTwin) {
  auto mapped = ReferralFromFhirBundle(SampleBundle());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  v1::Referral from_fhir = NormaliseReferral(*mapped, testing::TestNow());
  v1::Referral from_proto = NormaliseReferral(testing::ValidReferral(), testing::TestNow());
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(from_proto, from_fhir)) << diff;
  EXPECT_THAT(ValidateReferral(from_fhir, testing::TestNow()), ::testing::IsEmpty());
}

nlohmann::json Sample() { return nlohmann::json::parse(SampleBundle()); }

nlohmann::json& ResourceOf(nlohmann::json& bundle, const std::string& type) {
  for (auto& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == type) return entry["resource"];
  }
  throw std::runtime_error("no " + type);
}

std::vector<FieldViolation> ViolationsFor(const nlohmann::json& bundle) {
  auto mapped = ReferralFromFhirBundle(bundle.dump());
  EXPECT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.status().code(), absl::StatusCode::kInvalidArgument);
  return ViolationsOf(mapped.status());
}

TEST(FhirReferralTest, UrgentPriorityAndAbsentNhsNumber) {
  auto bundle = Sample();
  ResourceOf(bundle, "ServiceRequest")["priority"] = "urgent";
  auto& patient = ResourceOf(bundle, "Patient");
  patient["identifier"] = nlohmann::json::array();
  patient["extension"].push_back(
      {{"url", "urn:signpost:nhs-number-absence"}, {"valueCode", "not-registered-with-gp"}});
  auto mapped = ReferralFromFhirBundle(bundle.dump());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->urgency(), v1::URGENCY_PRIORITY);
  EXPECT_EQ(mapped->identity().nhs_number(), "");
  EXPECT_EQ(mapped->identity().nhs_number_absence(), v1::NHS_NUMBER_ABSENCE_NOT_REGISTERED_WITH_GP);
}

TEST(FhirReferralTest, ReportsWhatCannotBeRead) {
  EXPECT_THAT(ViolationsFor(nlohmann::json::parse(R"({"resourceType":"Patient"})")),
              Contains(Field(&FieldViolation::field, "resourceType")));

  auto no_patient = Sample();
  auto& entries = no_patient["entry"];
  entries.erase(entries.begin() + 2);
  EXPECT_THAT(ViolationsFor(no_patient),
              Contains(Field(&FieldViolation::field, "Bundle.entry[Patient]")));

  auto unmapped = Sample();
  ResourceOf(unmapped, "ServiceRequest")["reasonCode"][0]["coding"][0]["code"] = "38341003";
  EXPECT_THAT(ViolationsFor(unmapped),
              Contains(Field(&FieldViolation::field, "ServiceRequest.reasonCode[0]")));

  auto bad_date = Sample();
  ResourceOf(bad_date, "Patient")["birthDate"] = "14/03/1948";
  EXPECT_THAT(ViolationsFor(bad_date),
              Contains(Field(&FieldViolation::field, "Patient.birthDate")));

  auto bad_priority = Sample();
  ResourceOf(bad_priority, "ServiceRequest")["priority"] = "whenever";
  EXPECT_THAT(ViolationsFor(bad_priority),
              Contains(Field(&FieldViolation::field, "ServiceRequest.priority")));

  auto not_json = ReferralFromFhirBundle("{ this is not json");
  EXPECT_EQ(not_json.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FhirReferralTest, InactiveConsentIsNoConsent) {
  auto bundle = Sample();
  for (auto& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == "Consent") entry["resource"]["status"] = "rejected";
  }
  auto mapped = ReferralFromFhirBundle(bundle.dump());
  ASSERT_TRUE(mapped.ok());
  EXPECT_FALSE(mapped->consent().referral_consent());
  auto violations =
      ValidateReferral(NormaliseReferral(*mapped, testing::TestNow()), testing::TestNow());
  EXPECT_EQ(ValidationStatus(violations).code(), absl::StatusCode::kFailedPrecondition);
}

// Issue 22, item 3: consents coded as FHIR R4 and UK Core senders code them.
nlohmann::json StandardConsent(const std::string& loinc, const std::string& status = "active",
                               const std::string& provision = "permit") {
  return {{"resourceType", "Consent"},
          {"status", status},
          {"scope",
           {{"coding",
             {{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
               {"code", "patient-privacy"}}}}}},
          {"category", {{{"coding", {{{"system", "http://loinc.org"}, {"code", loinc}}}}}}},
          {"dateTime", "2026-11-20T09:25:00Z"},
          {"provision", {{"type", provision}}}};
}

nlohmann::json WithConsents(std::vector<nlohmann::json> consents) {
  auto bundle = Sample();
  auto& entries = bundle["entry"];
  for (auto it = entries.begin(); it != entries.end();) {
    it = (*it)["resource"]["resourceType"] == "Consent" ? entries.erase(it) : it + 1;
  }
  for (auto& c : consents) entries.push_back({{"resource", c}});
  return bundle;
}

TEST(FhirReferralTest, StandardConsentCodesNeedNoSignpostCoding) {
  auto mapped = ReferralFromFhirBundle(
      WithConsents({StandardConsent("59284-0"), StandardConsent("64292-6")}).dump());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE(mapped->consent().referral_consent());
  EXPECT_TRUE(mapped->consent().sharing_consent());
  EXPECT_EQ(mapped->consent().recorded_at().seconds(),
            absl::ToUnixSeconds(
                absl::FromCivil(absl::CivilSecond(2026, 11, 20, 9, 25, 0), absl::UTCTimeZone())));
  EXPECT_THAT(ValidateReferral(NormaliseReferral(*mapped, testing::TestNow()), testing::TestNow()),
              ::testing::IsEmpty());
}

TEST(FhirReferralTest, ADeniedOrInactiveConsentIsNoConsent) {
  auto denied =
      ReferralFromFhirBundle(WithConsents({StandardConsent("59284-0", "active", "deny")}).dump());
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_FALSE(denied->consent().referral_consent());
  auto inactive =
      ReferralFromFhirBundle(WithConsents({StandardConsent("59284-0", "inactive")}).dump());
  ASSERT_TRUE(inactive.ok()) << inactive.status();
  EXPECT_FALSE(inactive->consent().referral_consent());
}

TEST(FhirReferralTest, AConsentOfAnotherKindIsIgnoredUnlessItIsTheOnlyOne) {
  auto research = StandardConsent("57016-8");  // privacy policy acknowledgement: not ours
  auto beside = ReferralFromFhirBundle(WithConsents({StandardConsent("59284-0"), research}).dump());
  ASSERT_TRUE(beside.ok()) << beside.status();
  EXPECT_TRUE(beside->consent().referral_consent());
  auto only = WithConsents({research});
  auto violations = ViolationsFor(only);
  ASSERT_THAT(violations, Contains(Field(&FieldViolation::field, "Consent.category")));
  EXPECT_THAT(violations[0].description, ::testing::HasSubstr("59284-0"));
}

TEST(FhirReferralTest, TheSenderIsReadFromABundleThatCannotBeMapped) {
  auto unmapped = Sample();
  ResourceOf(unmapped, "ServiceRequest")["reasonCode"][0]["coding"][0]["code"] = "38341003";
  FhirSubmission read = ReadFhirSubmission(unmapped.dump());
  EXPECT_FALSE(read.referral.ok());
  EXPECT_EQ(read.sender.source_system, "emis-leeds-north");
  EXPECT_EQ(read.sender.source_referral_id, "EMIS-2026-000123");
  EXPECT_EQ(read.sender.referrer_ods_code, "B86001");

  // No requester organisation: the MessageHeader's sender, here a reference into the bundle.
  auto by_header = Sample();
  ResourceOf(by_header, "ServiceRequest")["requester"] = {{"display", "Dr Okafor"}};
  ResourceOf(by_header, "MessageHeader")["sender"] = {{"reference", "Organization/b86002"}};
  by_header["entry"].push_back(
      {{"resource",
        {{"resourceType", "Organization"},
         {"id", "b86002"},
         {"identifier",
          {{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"}, {"value", "B86002"}}}}}}});
  read = ReadFhirSubmission(by_header.dump());
  ASSERT_TRUE(read.referral.ok()) << read.referral.status();
  EXPECT_EQ(read.referral->referrer().ods_code(), "");  // the referrer is the requester
  EXPECT_EQ(read.sender.referrer_ods_code, "B86002");

  // Not even JSON: nothing to read.
  EXPECT_FALSE(ReadFhirSubmission("{ not json").sender.CanBeTold());
  EXPECT_FALSE(ReadFhirSubmission("[1,2,3]").sender.CanBeTold());
}

TEST(FhirReferralTest, TheRequesterMayReferToItsOrganisationInTheBundle) {
  auto bundle = Sample();
  ResourceOf(bundle, "ServiceRequest")["requester"] = {{"reference", "urn:uuid:org-1"},
                                                       {"display", "Dr Amara Okafor"}};
  bundle["entry"].push_back(
      {{"fullUrl", "urn:uuid:org-1"},
       {"resource",
        {{"resourceType", "Organization"},
         {"identifier",
          {{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"}, {"value", "B86001"}}}}}}});
  auto mapped = ReferralFromFhirBundle(bundle.dump());
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->referrer().ods_code(), "B86001");
}

// Item 13: a bundle with thousands of bad entries lists the first ones and counts the rest.
TEST(FhirReferralTest, ThousandsOfBadEntriesAreListedInPartAndCounted) {
  auto bundle = Sample();
  auto& reasons = ResourceOf(bundle, "ServiceRequest")["reasonCode"];
  for (int i = 0; i < 5000; ++i) {
    reasons.push_back({{"coding", {{{"system", "http://snomed.info/sct"}, {"code", "38341003"}}}}});
  }
  auto mapped = ReferralFromFhirBundle(bundle.dump());
  ASSERT_FALSE(mapped.ok());
  EXPECT_LE(ViolationsOf(mapped.status()).size(), 100u);
  EXPECT_THAT(std::string(mapped.status().message()), ::testing::HasSubstr("4999 more"));
}

}  // namespace
}  // namespace signpost::intake
