// The pure parts of FHIR messaging at intake: what a BaRS-shaped request message says, where a
// violation sits in it, and the response message.
#include "services/intake/fhir_process_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/status/field_violations.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/identifiers.h"

namespace signpost::intake {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string DataFile(const std::string& name) {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/intake/data/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json Message(const std::string& name) { return json::parse(DataFile(name)); }

json& Resource(json& bundle, const std::string& type) {
  for (auto& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == type) return entry["resource"];
  }
  throw std::runtime_error("no " + type);
}

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& v : ViolationsOf(status)) fields.push_back(v.field);
  return fields;
}

// Every SNOMED CT id the messages carry is a well-formed concept id (Verhoeff check digit).
void ExpectWellFormedSnomedIds(const json& node) {
  if (node.is_object()) {
    if (node.value("system", "") == "http://snomed.info/sct") {
      EXPECT_TRUE(IsValidSnomedConceptId(node.value("code", ""))) << node.dump();
    }
    for (const auto& [key, value] : node.items()) ExpectWellFormedSnomedIds(value);
  } else if (node.is_array()) {
    for (const auto& value : node) ExpectWellFormedSnomedIds(value);
  }
}

TEST(FhirProcessMessageTest, TheBarsReferralMessageIsAReferralWithStandardCodingsOnly) {
  json bundle = Message("bars_referral_message.json");
  ASSERT_TRUE(CheckMessageBundle(bundle).ok());
  auto message = ReadRequestMessage(bundle);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->kind, MessageKind::kReferral);
  EXPECT_EQ(message->bundle_id, "3f0c9a52-8d1e-4b7a-a6c4-2e5f1b9d7c80");
  EXPECT_EQ(message->source_name, "emis-leeds-north");
  EXPECT_EQ(message->source_endpoint, "https://integration.leeds-north.example.nhs.uk/fhir");
  EXPECT_EQ(message->destination_endpoint, "https://signpost.nhs.example/fhir/$process-message");
  EXPECT_EQ(message->source_referral_id, "EMIS-BARS-000456");
  EXPECT_EQ(message->intent, "plan");
  EXPECT_EQ(message->subject["identifier"]["value"], "9434765919");
  ExpectWellFormedSnomedIds(bundle);
  EXPECT_THAT(bundle.dump(), ::testing::Not(HasSubstr("urn:signpost")));

  // The existing mapping reads it: requester by its Organization's ODS code, needs by SNOMED CT,
  // consent by LOINC.
  auto referral = ReferralFromFhirBundle(bundle.dump());
  ASSERT_TRUE(referral.ok()) << referral.status();
  EXPECT_EQ(referral->referrer().ods_code(), "B86001");
  EXPECT_EQ(referral->source_system(), "emis-leeds-north");
  EXPECT_EQ(referral->source_referral_id(), "EMIS-BARS-000456");
  ASSERT_EQ(referral->needs_size(), 2);
  EXPECT_EQ(referral->needs(0).category(), v1::NEED_CATEGORY_LONELINESS);
  EXPECT_EQ(referral->needs(1).category(), v1::NEED_CATEGORY_HOUSING);
  EXPECT_TRUE(referral->consent().referral_consent());
  EXPECT_TRUE(referral->consent().sharing_consent());
  EXPECT_EQ(referral->identity().nhs_number(), "9434765919");
}

TEST(FhirProcessMessageTest, TheBarsCancellationRevokesTheSendersReferral) {
  json bundle = Message("bars_cancellation_message.json");
  ASSERT_TRUE(CheckMessageBundle(bundle).ok());
  auto message = ReadRequestMessage(bundle);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->kind, MessageKind::kCancellation);
  EXPECT_EQ(message->withdrawal_reason, v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER);
  EXPECT_EQ(message->source_name, "emis-leeds-north");
  EXPECT_EQ(message->source_referral_id, "EMIS-BARS-000456");
  EXPECT_TRUE(message->referral_id.empty());
  ExpectWellFormedSnomedIds(bundle);

  Resource(bundle, "ServiceRequest")["status"] = "entered-in-error";
  message = ReadRequestMessage(bundle);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->withdrawal_reason, v1::WITHDRAWAL_REASON_OTHER);

  // Signpost's own identifier, when the sender kept it, names the referral.
  Resource(bundle, "ServiceRequest")["identifier"].push_back(
      {{"system", kReferralIdSystem}, {"value", "ref-123"}});
  message = ReadRequestMessage(bundle);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->referral_id, "ref-123");
  EXPECT_EQ(message->source_referral_id, "EMIS-BARS-000456");
}

TEST(FhirProcessMessageTest, AnUpdateThatIsNoCancellationIsRefusedNamingTheStatus) {
  json bundle = Message("bars_cancellation_message.json");
  Resource(bundle, "ServiceRequest")["status"] = "active";
  auto message = ReadRequestMessage(bundle);
  ASSERT_FALSE(message.ok());
  EXPECT_THAT(FieldsOf(message.status()),
              ::testing::ElementsAre("Bundle.entry[1].resource.ofType(ServiceRequest).status"));

  json revoked_as_new = Message("bars_referral_message.json");
  Resource(revoked_as_new, "ServiceRequest")["status"] = "revoked";
  EXPECT_THAT(FieldsOf(ReadRequestMessage(revoked_as_new).status()),
              ::testing::ElementsAre("Bundle.entry[0].resource.ofType(MessageHeader).reason"));
}

TEST(FhirProcessMessageTest, OtherEventsAndReasonsAreRefused) {
  json bundle = Message("bars_referral_message.json");
  Resource(bundle, "MessageHeader")["eventCoding"]["code"] = "booking-request";
  Resource(bundle, "MessageHeader")["reason"]["coding"][0]["code"] = "delete";
  auto message = ReadRequestMessage(bundle);
  ASSERT_FALSE(message.ok());
  EXPECT_THAT(FieldsOf(message.status()),
              ::testing::ElementsAre("Bundle.entry[0].resource.ofType(MessageHeader).eventCoding",
                                     "Bundle.entry[0].resource.ofType(MessageHeader).reason"));
  EXPECT_THAT(ViolationsOf(message.status())[0].description, HasSubstr("booking-request"));
}

TEST(FhirProcessMessageTest, OnlyAMessageBundleWithItsHeaderFirstIsAMessage) {
  EXPECT_THAT(FieldsOf(CheckMessageBundle(json::array())), ::testing::ElementsAre("Bundle"));
  EXPECT_THAT(FieldsOf(CheckMessageBundle({{"resourceType", "Patient"}})),
              ::testing::ElementsAre("Bundle"));
  json bundle = Message("bars_referral_message.json");
  bundle["type"] = "collection";
  std::swap(bundle["entry"][0], bundle["entry"][1]);
  EXPECT_THAT(FieldsOf(CheckMessageBundle(bundle)),
              ::testing::ElementsAre("Bundle.type", "Bundle.entry[0].resource"));
  json no_entries = {{"resourceType", "Bundle"}, {"type", "message"}};
  EXPECT_THAT(FieldsOf(CheckMessageBundle(no_entries)),
              ::testing::ElementsAre("Bundle.entry[0].resource"));
}

// A body as deep as the listener lets through (1 MiB) is refused, not a stack overflow.
TEST(FhirProcessMessageTest, ADeeplyNestedBodyIsRefusedNotACrash) {
  std::string deep = std::string(500000, '[') + std::string(500000, ']');
  json parsed = json::parse(deep, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(CheckMessageBundle(parsed).ok());
  EXPECT_FALSE(ReadFhirSubmission(deep).referral.ok());
  std::string deep_entry = R"({"resourceType":"Bundle","type":"message","entry":)" +
                           std::string(400000, '[') + std::string(400000, ']') + "}";
  EXPECT_FALSE(CheckMessageBundle(json::parse(deep_entry, nullptr, false)).ok());
  EXPECT_FALSE(ReadFhirSubmission(deep_entry).referral.ok());
}

TEST(FhirProcessMessageTest, OlderBundlesWithoutReasonAreReferrals) {
  json bundle = Message("referral_bundle.json");
  ASSERT_TRUE(CheckMessageBundle(bundle).ok());
  auto message = ReadRequestMessage(bundle);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->kind, MessageKind::kReferral);
  EXPECT_EQ(message->intent, "order");
}

TEST(FhirProcessMessageTest, ViolationsAreNamedAsFhirPathsInTheMessage) {
  json bundle = Message("bars_referral_message.json");
  EXPECT_EQ(ExpressionInMessage(bundle, "identity.nhs_number"),
            "Bundle.entry[2].resource.ofType(Patient).identifier.where(system='https://"
            "fhir.nhs.uk/Id/nhs-number').value");
  EXPECT_EQ(ExpressionInMessage(bundle, "identity.date_of_birth"),
            "Bundle.entry[2].resource.ofType(Patient).birthDate");
  EXPECT_EQ(ExpressionInMessage(bundle, "needs[1].category"),
            "Bundle.entry[1].resource.ofType(ServiceRequest).reasonCode[1]");
  EXPECT_EQ(ExpressionInMessage(bundle, "needs[0].snomed_code"),
            "Bundle.entry[1].resource.ofType(ServiceRequest).reasonCode[0].coding");
  EXPECT_EQ(ExpressionInMessage(bundle, "ServiceRequest.reasonCode[1]"),
            "Bundle.entry[1].resource.ofType(ServiceRequest).reasonCode[1]");
  EXPECT_EQ(ExpressionInMessage(bundle, "referrer.ods_code"),
            "Bundle.entry[1].resource.ofType(ServiceRequest).requester");
  EXPECT_EQ(ExpressionInMessage(bundle, "source_system"),
            "Bundle.entry[0].resource.ofType(MessageHeader).source.name");
  EXPECT_EQ(ExpressionInMessage(bundle, "consent.recorded_at"),
            "Bundle.entry[5].resource.ofType(Consent).dateTime");
  EXPECT_EQ(ExpressionInMessage(bundle, "Patient.extension[inclusion-group]"),
            "Bundle.entry[2].resource.ofType(Patient).extension.where(url='urn:signpost:"
            "inclusion-group')");
  EXPECT_EQ(ExpressionInMessage(bundle, "Bundle.entry[Patient]"),
            "Bundle.entry.resource.ofType(Patient)");
  EXPECT_EQ(ExpressionInMessage(bundle, "Bundle.type"), "Bundle.type");
  EXPECT_EQ(ExpressionInMessage(bundle, ""), "");
  bundle["entry"].erase(5);
  bundle["entry"].erase(5);
  EXPECT_EQ(ExpressionInMessage(bundle, "consent.referral_consent"),
            "Bundle.entry.resource.ofType(Consent)");
}

TEST(FhirProcessMessageTest, TheResponseMessageAnswersTheRequestWithTheReferralId) {
  json bundle = Message("bars_referral_message.json");
  auto request = ReadRequestMessage(bundle);
  ASSERT_TRUE(request.ok());
  absl::Time now = absl::FromUnixSeconds(1795000000);
  json response =
      ResponseMessage(*request, {.referral_id = "ref-0a1b", .urgency = v1::URGENCY_PRIORITY},
                      "11111111-2222-4333-8444-555555555555", now);
  EXPECT_EQ(response["resourceType"], "Bundle");
  EXPECT_EQ(response["type"], "message");
  EXPECT_EQ(response["id"], "11111111-2222-4333-8444-555555555555");
  ASSERT_EQ(response["entry"].size(), 2u);
  const json& header = response["entry"][0]["resource"];
  EXPECT_EQ(header["resourceType"], "MessageHeader");
  EXPECT_EQ(header["eventCoding"]["system"], std::string(kBarsMessageEvents));
  EXPECT_EQ(header["eventCoding"]["code"], "servicerequest-response");
  EXPECT_EQ(header["response"]["identifier"], "3f0c9a52-8d1e-4b7a-a6c4-2e5f1b9d7c80");
  EXPECT_EQ(header["response"]["code"], "ok");
  EXPECT_EQ(header["destination"][0]["endpoint"],
            "https://integration.leeds-north.example.nhs.uk/fhir");
  EXPECT_EQ(header["source"]["endpoint"], "https://signpost.nhs.example/fhir/$process-message");
  const json& entry = response["entry"][1];
  EXPECT_EQ(header["focus"][0]["reference"], entry["fullUrl"]);
  EXPECT_EQ(entry["fullUrl"], "https://signpost.nhs.example/fhir/ServiceRequest/ref-0a1b");
  const json& service_request = entry["resource"];
  EXPECT_EQ(service_request["id"], "ref-0a1b");
  EXPECT_EQ(service_request["identifier"][0]["system"], std::string(kReferralIdSystem));
  EXPECT_EQ(service_request["identifier"][0]["value"], "ref-0a1b");
  EXPECT_EQ(service_request["identifier"][1]["value"], "EMIS-BARS-000456");
  EXPECT_EQ(service_request["status"], "active");
  EXPECT_EQ(service_request["intent"], "plan");
  EXPECT_EQ(service_request["priority"], "urgent");
  EXPECT_EQ(service_request["subject"]["identifier"]["value"], "9434765919");
  EXPECT_THAT(response.dump(), ::testing::Not(HasSubstr("\"meta\"")));
  EXPECT_THAT(response.dump(), ::testing::Not(HasSubstr("profile")));
}

TEST(FhirProcessMessageTest, AResentReferralAndACancellationSaySoInTheResponse) {
  auto referral = ReadRequestMessage(Message("bars_referral_message.json"));
  ASSERT_TRUE(referral.ok());
  json again = ResponseMessage(*referral, {.referral_id = "ref-0a1b", .duplicate = true},
                               "11111111-2222-4333-8444-555555555555", absl::Now());
  ASSERT_EQ(again["entry"].size(), 3u);
  const json& details = again["entry"][2];
  EXPECT_EQ(again["entry"][0]["resource"]["response"]["details"]["reference"], details["fullUrl"]);
  EXPECT_EQ(details["resource"]["resourceType"], "OperationOutcome");
  EXPECT_EQ(details["resource"]["issue"][0]["code"], "duplicate");
  EXPECT_THAT(details["resource"]["issue"][0]["diagnostics"].get<std::string>(),
              HasSubstr("received before as referral ref-0a1b"));

  auto cancellation = ReadRequestMessage(Message("bars_cancellation_message.json"));
  ASSERT_TRUE(cancellation.ok());
  json cancelled = ResponseMessage(*cancellation, {.referral_id = "ref-0a1b"},
                                   "11111111-2222-4333-8444-555555555555", absl::Now());
  EXPECT_EQ(cancelled["entry"][1]["resource"]["status"], "revoked");
  EXPECT_EQ(cancelled["entry"][0]["resource"]["reason"]["coding"][0]["code"], "update");
  EXPECT_EQ(cancelled["entry"][0]["resource"]["response"]["identifier"],
            "8a1e5c37-4b9d-4f02-b6e8-1c3a5e7f9b04");
}

}  // namespace
}  // namespace signpost::intake
