#include "services/intake/fhir_referral.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

}  // namespace
}  // namespace signpost::intake
