// The message back of every step as the GP system receives it: the PRSB content and the step's
// code on the referrer.feedback event, and the same as a FHIR R4 message Bundle. Drives the real
// workflow from a match that carries planted personal details, which must not come out.
#include "services/followup/feedback_fhir_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/events/event_envelope.h"
#include "common/events/timestamp.h"
#include "services/followup/case_workflow.h"
#include "services/followup/message_back_codes.h"
#include "services/followup/rejection_feedback.h"
#include "services/intake/identifiers.h"
#include "tests/services/followup/batch_events.h"

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Json = nlohmann::json;
using batch_events::kMonday;

// Personal details planted in the referral; none may appear on the feedback topic.
const char* const kPlanted[] = {"Amira",         "Okafor",         "9434765919", "07700900123",
                                "amira@example", "12 Otley Road",  "LS6 2AB",    "1953-04-17",
                                "prefers morn",  "walks with her", "Mrs Okafor"};

v1::Event PlantedMatch(const std::string& rid, bool sharing_consent) {
  v1::Event e = batch_events::Matched(rid);
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  auto* id = r->mutable_identity();
  id->set_given_name("Amira");
  id->set_family_name("Okafor");
  id->set_preferred_name("Mrs Okafor");
  id->set_nhs_number("9434765919");
  id->set_phone("07700900123");
  id->set_email("amira@example.org");
  id->add_address_lines("12 Otley Road");
  id->set_postcode("LS6 2AB");
  id->mutable_date_of_birth()->set_year(1953);
  id->mutable_date_of_birth()->set_month(4);
  id->mutable_date_of_birth()->set_day(17);
  r->set_notes("Amira prefers mornings.");
  r->mutable_consent()->set_sharing_consent(sharing_consent);
  auto* option = m->mutable_needs(0)->add_options();
  option->set_resource_id("walk-1");
  option->set_resource_name("Headingley Walking Group");
  return e;
}

LoadedCase Apply(const CaseChange& change, const LoadedCase* before = nullptr) {
  LoadedCase next;
  next.kase = change.after;
  std::map<std::string, v1::Task> tasks;
  if (before != nullptr) {
    for (const auto& t : before->open_tasks) tasks[t.id()] = t;
  }
  for (const auto& w : change.tasks) tasks[w.task.id()] = w.task;
  for (const auto& id : change.after.open_task_ids()) next.open_tasks.push_back(tasks[id]);
  return next;
}

// The file name of an example: the kind, and the closure reason when it is not the plain one.
std::string ExampleName(const v1::Event& e) {
  const v1::ReferrerFeedback& f = e.referrer_feedback();
  std::string kind = v1::FeedbackKind_Name(f.kind()).substr(std::string("FEEDBACK_KIND_").size());
  for (char& c : kind) c = static_cast<char>(std::tolower(c));
  if (f.kind() == v1::FEEDBACK_KIND_CLOSED && f.closure_reason() == v1::CLOSURE_REASON_DECLINED) {
    kind += "_declined";
  }
  return kind;
}

class FeedbackFhirMessageTest : public ::testing::Test {
 protected:
  FeedbackFhirMessageTest() : workflow_(WorkflowOptions{}) {}

  void Collect(const absl::StatusOr<CaseChange>& change) {
    ASSERT_TRUE(change.ok()) << change.status();
    for (const auto& out : change->events) {
      if (!out.event.has_referrer_feedback()) continue;
      v1::Event e = out.event;
      AttachFhirMessage(e);
      sent_.push_back(e);
    }
  }

  // Every message back a case sends on its way: accepted, assigned, first contact, connected,
  // closed (with outcomes); a second case declined, a third withdrawn; and a rejection.
  std::vector<v1::Event> AllKinds(bool sharing_consent = true) {
    sent_.clear();
    auto opened = workflow_.Open(PlantedMatch("ref-1", sharing_consent), kMonday);
    Collect(opened);
    LoadedCase c = Apply(*opened);
    v1::RecordContactRequest contact;
    contact.set_link_worker_id("lw-1");
    contact.set_result(v1::CONTACT_RESULT_NO_ANSWER);
    auto first_try = workflow_.RecordContact(c, contact, kMonday + absl::Hours(2));
    Collect(first_try);
    c = Apply(*first_try, &c);
    contact.set_result(v1::CONTACT_RESULT_REACHED);
    contact.set_note("Amira walks with her neighbour");
    auto reached = workflow_.RecordContact(c, contact, kMonday + absl::Hours(26));
    Collect(reached);
    c = Apply(*reached, &c);
    v1::AgreePlanRequest plan;
    plan.set_link_worker_id("lw-1");
    plan.set_plan("Amira walks with her neighbour on Tuesdays");
    auto agreed = workflow_.AgreePlan(c, plan, kMonday + absl::Hours(27));
    Collect(agreed);
    c = Apply(*agreed, &c);
    v1::RecordOutcomeRequest outcome;
    outcome.set_link_worker_id("lw-1");
    auto* ons4 = outcome.mutable_measure()->mutable_ons4();
    ons4->set_life_satisfaction(4);
    ons4->set_worthwhile(5);
    ons4->set_happiness(3);
    ons4->set_anxiety(7);
    auto baseline = workflow_.RecordOutcome(c, outcome, kMonday + absl::Hours(27));
    Collect(baseline);
    c = Apply(*baseline, &c);
    v1::RecordConnectionRequest connect;
    connect.set_link_worker_id("lw-1");
    connect.set_resource_id("walk-1");
    auto connected = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(28));
    Collect(connected);
    c = Apply(*connected, &c);
    v1::RecordOutcomeRequest later;
    later.set_link_worker_id("lw-1");
    for (int answer : {3, 4, 4, 3, 4, 5, 4}) {
      later.mutable_measure()->mutable_swemwbs()->add_answers(answer);
    }
    auto latest = workflow_.RecordOutcome(c, later, kMonday + absl::Hours(24 * 40));
    Collect(latest);
    c = Apply(*latest, &c);
    v1::CloseCaseRequest close;
    close.set_link_worker_id("lw-1");
    close.set_reason(v1::CLOSURE_REASON_COMPLETED);
    Collect(workflow_.Close(c, close, kMonday + absl::Hours(24 * 42)));

    auto second = workflow_.Open(PlantedMatch("ref-2", sharing_consent), kMonday);
    close.set_reason(v1::CLOSURE_REASON_DECLINED);
    Collect(workflow_.Close(Apply(*second), close, kMonday + absl::Hours(30)));

    auto third = workflow_.Open(PlantedMatch("ref-3", sharing_consent), kMonday);
    v1::Event withdrawn;
    withdrawn.mutable_referral_withdrawn()->set_reason(v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER);
    events::Seal(withdrawn, "ref-3", "signpost-intake", kMonday + absl::Hours(5));
    Collect(workflow_.Withdraw(Apply(*third), withdrawn, kMonday + absl::Hours(5)));

    v1::Event rejected;
    auto* r = rejected.mutable_referral_rejected();
    r->set_source_system("emis-test");
    r->set_source_referral_id("src-ref-4");
    r->set_referrer_ods_code("A81001");
    r->set_reason("1 problem");
    auto* v = r->add_violations();
    v->set_field("referral.person.nhs_number");
    v->set_description("fails the check digit");
    events::Seal(rejected, "ref-4", "signpost-intake", kMonday);
    rejected.mutable_envelope()->set_event_id("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
    v1::Event told = RejectionFeedback(rejected, "signpost-followup");
    AttachFhirMessage(told);
    sent_.push_back(told);
    return sent_;
  }

  // The one message of a kind.
  static const v1::Event& Of(const std::vector<v1::Event>& all, const std::string& name) {
    for (const auto& e : all) {
      if (ExampleName(e) == name) return e;
    }
    static const v1::Event none;
    ADD_FAILURE() << "no " << name << " message";
    return none;
  }

  CaseWorkflow workflow_;
  std::vector<v1::Event> sent_;
};

const char* const kKinds[] = {"accepted", "assigned",        "first_contact", "connected",
                              "closed",   "closed_declined", "withdrawn",     "rejected"};

TEST_F(FeedbackFhirMessageTest, EveryStepCarriesItsCodeAndTaskStatus) {
  struct Expected {
    const char* kind;
    const char* step;
    const char* system;
    const char* code;
    const char* task_status;
  };
  const Expected table[] = {
      {"accepted", "accepted", kSnomedSystem, "871731000000106", "accepted"},
      {"assigned", "assigned", kMessageBackStepSystem, "assigned", "accepted"},
      {"first_contact", "first-contact", kMessageBackStepSystem, "first-contact", "in-progress"},
      {"connected", "connected", kMessageBackStepSystem, "connected", "in-progress"},
      {"closed", "closed-completed", kMessageBackStepSystem, "closed-completed", "completed"},
      {"closed_declined", "closed-declined", kSnomedSystem, "871711000000103", "cancelled"},
      {"withdrawn", "withdrawn", kMessageBackStepSystem, "withdrawn", "cancelled"},
      {"rejected", "rejected", kMessageBackStepSystem, "rejected", "rejected"},
  };
  std::vector<v1::Event> all = AllKinds();
  for (const Expected& x : table) {
    SCOPED_TRACE(x.kind);
    const v1::ReferrerFeedback& f = Of(all, x.kind).referrer_feedback();
    EXPECT_EQ(f.message_back().step(), x.step);
    EXPECT_EQ(f.message_back().step_code().system(), x.system);
    EXPECT_EQ(f.message_back().step_code().code(), x.code);
    EXPECT_FALSE(f.message_back().step_code().display().empty());
    if (std::string(x.system) == kSnomedSystem) {
      EXPECT_THAT(f.snomed_codes(), ElementsAre(x.code));
    } else {
      EXPECT_THAT(f.snomed_codes(), IsEmpty()) << "no SNOMED CT id without a verified source";
    }
    Json bundle = Json::parse(f.fhir_message());
    const Json& task = bundle["entry"][1]["resource"];
    EXPECT_EQ(task["status"], x.task_status);
    EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], x.step);
    const Json& procedure = bundle["entry"][3]["resource"];
    ASSERT_EQ(procedure["resourceType"], "Procedure");
    EXPECT_EQ(procedure["code"]["coding"][0]["system"], x.system);
    EXPECT_EQ(procedure["code"]["coding"][0]["code"], x.code);
  }
}

// Every SNOMED CT id the message back can carry is one of the two with a public source, and is
// a well-formed concept id (Verhoeff check digit).
TEST_F(FeedbackFhirMessageTest, OnlyVerifiedSnomedIdsAndEachPassesTheCheckDigit) {
  const std::set<std::string> verified = {"871731000000106", "871711000000103"};
  for (const auto& id : verified) EXPECT_TRUE(intake::IsValidSnomedConceptId(id)) << id;
  for (int k = 0; k <= v1::FeedbackKind_MAX; ++k) {
    for (int r = 0; r <= v1::ClosureReason_MAX; ++r) {
      MessageBackStep step =
          StepOf(static_cast<v1::FeedbackKind>(k), static_cast<v1::ClosureReason>(r));
      if (step.code.system() != kSnomedSystem) continue;
      EXPECT_TRUE(verified.count(step.code.code())) << step.step << " " << step.code.code();
      EXPECT_TRUE(intake::IsValidSnomedConceptId(step.code.code())) << step.code.code();
    }
  }
}

TEST_F(FeedbackFhirMessageTest, TheMessageBackSaysWhatSupportWhoHoldsTheCaseAndTheContacts) {
  std::vector<v1::Event> all = AllKinds();
  const v1::PrsbMessageBack& accepted = Of(all, "accepted").referrer_feedback().message_back();
  EXPECT_EQ(accepted.link_worker_id(), "lw-1");
  EXPECT_EQ(accepted.network_id(), "pcn-north");
  EXPECT_THAT(accepted.support_offered(), IsEmpty());
  EXPECT_EQ(events::FromTimestamp(accepted.case_opened_at()), kMonday);
  const v1::PrsbMessageBack& first = Of(all, "first_contact").referrer_feedback().message_back();
  EXPECT_EQ(first.contact_attempts(), 2);
  EXPECT_TRUE(first.person_reached());
  const v1::PrsbMessageBack& connected = Of(all, "connected").referrer_feedback().message_back();
  ASSERT_EQ(connected.support_offered_size(), 1);
  EXPECT_EQ(connected.support_offered(0).resource_id(), "walk-1");
  EXPECT_EQ(connected.support_offered(0).resource_name(), "Headingley Walking Group");
  EXPECT_EQ(connected.support_offered(0).need(), "loneliness");
  EXPECT_EQ(connected.outcomes(), v1::OUTCOMES_SHARING_NOT_AT_THIS_STEP);
  const v1::ReferrerFeedback& closed = Of(all, "closed").referrer_feedback();
  EXPECT_EQ(closed.message_back().outcomes(), v1::OUTCOMES_SHARING_SHARED);
  EXPECT_EQ(closed.closure_reason(), v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(closed.message_back().support_offered_size(), 1);
  EXPECT_EQ(Of(all, "closed_declined").referrer_feedback().message_back().outcomes(),
            v1::OUTCOMES_SHARING_NONE_RECORDED);
  EXPECT_EQ(Of(all, "withdrawn").referrer_feedback().closure_reason(),
            v1::CLOSURE_REASON_WITHDRAWN);

  // The connection is the Task's resulting activity; the scores are Observations it points at.
  Json bundle = Json::parse(closed.fhir_message());
  const Json& outputs = bundle["entry"][1]["resource"]["output"];
  ASSERT_EQ(outputs.size(), 4u);  // the connection, the step's Procedure, baseline, latest
  EXPECT_EQ(outputs[0]["valueCodeableConcept"]["coding"][0]["code"], "walk-1");
  std::vector<Json> observations;
  for (const Json& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == "Observation")
      observations.push_back(entry["resource"]);
  }
  ASSERT_EQ(observations.size(), 2u);
  EXPECT_EQ(observations[0]["code"]["coding"][0]["code"], "ons4");
  EXPECT_EQ(observations[0]["component"].size(), 4u);
  EXPECT_EQ(observations[0]["component"][3]["valueInteger"], 7);  // anxiety
  EXPECT_EQ(observations[1]["code"]["coding"][0]["code"], "swemwbs");
  EXPECT_EQ(observations[1]["valueInteger"], 27);
  EXPECT_EQ(observations[1]["effectiveDateTime"], "2027-01-02T10:00:00Z");
}

// Outcome scores go back only with the person's consent to share (the workflow's rule): without
// it the closing message says they were withheld and its bundle has no Observation.
TEST_F(FeedbackFhirMessageTest, WithoutConsentToShareNoScoresGoBack) {
  std::vector<v1::Event> all = AllKinds(/*sharing_consent=*/false);
  const v1::ReferrerFeedback& closed = Of(all, "closed").referrer_feedback();
  EXPECT_FALSE(closed.has_baseline());
  EXPECT_FALSE(closed.has_latest());
  EXPECT_EQ(closed.message_back().outcomes(), v1::OUTCOMES_SHARING_NOT_CONSENTED);
  EXPECT_EQ(closed.fhir_message().find("Observation"), std::string::npos);
  EXPECT_EQ(closed.fhir_message().find("ons4"), std::string::npos);
}

void CollectReferences(const Json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "reference" && value.is_string()) out.push_back(value);
      ASSERT_NE(key, "meta") << "no meta.profile: the offline validator cannot resolve one";
      CollectReferences(value, out);
    }
  } else if (node.is_array()) {
    for (const Json& item : node) CollectReferences(item, out);
  }
}

TEST_F(FeedbackFhirMessageTest, EveryBundleIsAMessageWhoseReferencesResolveInside) {
  for (const v1::Event& e : AllKinds()) {
    SCOPED_TRACE(ExampleName(e));
    const v1::ReferrerFeedback& f = e.referrer_feedback();
    Json bundle = Json::parse(f.fhir_message());
    EXPECT_EQ(bundle["resourceType"], "Bundle");
    EXPECT_EQ(bundle["type"], "message");
    EXPECT_EQ(bundle["id"],
              events::NameBasedEventId(absl::StrCat("fhir-message:", f.idempotency_key())));
    EXPECT_EQ(
        bundle["timestamp"],
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", events::FromTimestamp(e.envelope().occurred_at()),
                         absl::UTCTimeZone()));
    const Json& entries = bundle["entry"];
    ASSERT_GE(entries.size(), 4u);
    const Json& header = entries[0]["resource"];
    ASSERT_EQ(header["resourceType"], "MessageHeader") << "MessageHeader first (bdl-12)";
    EXPECT_EQ(header["eventCoding"]["system"],
              "https://fhir.nhs.uk/CodeSystem/message-events-bars");
    EXPECT_EQ(header["eventCoding"]["code"], "servicerequest-response");
    EXPECT_FALSE(header["source"]["endpoint"].get<std::string>().empty());
    std::map<std::string, Json> by_url;
    for (const Json& entry : entries) {
      const std::string url = entry["fullUrl"];
      EXPECT_EQ(url.rfind("urn:uuid:", 0), 0u) << url;
      EXPECT_EQ(url.size(), std::string("urn:uuid:").size() + 36) << url;
      EXPECT_TRUE(by_url.emplace(url, entry["resource"]).second) << "duplicate " << url;
      EXPECT_TRUE(entry["resource"].contains("id"));
    }
    ASSERT_EQ(header["focus"].size(), 1u);
    const Json& task = by_url[header["focus"][0]["reference"]];
    EXPECT_EQ(task["resourceType"], "Task");
    EXPECT_EQ(task["id"], e.envelope().referral_id());
    EXPECT_EQ(task["intent"], "order");
    EXPECT_EQ(task["focus"]["type"], "ServiceRequest");
    EXPECT_EQ(task["focus"]["identifier"]["system"], "urn:signpost:source-system:emis-test");
    EXPECT_EQ(task["focus"]["identifier"]["value"], f.source_referral_id());
    EXPECT_EQ(task["requester"]["identifier"]["value"], "A81001");
    if (f.kind() != v1::FEEDBACK_KIND_REJECTED) {
      EXPECT_EQ(task["owner"]["type"], "PractitionerRole");
      EXPECT_EQ(task["owner"]["identifier"]["value"], "lw-1");
    }
    std::vector<std::string> references;
    CollectReferences(bundle, references);
    EXPECT_GE(references.size(), 4u);
    for (const std::string& ref : references) EXPECT_TRUE(by_url.count(ref)) << ref;
    for (const auto& [url, resource] : by_url) {
      const std::string type = resource["resourceType"];
      if (type == "Procedure" || type == "Observation") {
        EXPECT_TRUE(resource.contains("status")) << type;
        EXPECT_TRUE(resource.contains("code")) << type;
        EXPECT_TRUE(by_url.count(resource["subject"]["reference"])) << type;
      }
      if (type == "Patient") EXPECT_EQ(resource.size(), 2u) << "resourceType and id only";
    }
  }
}

TEST_F(FeedbackFhirMessageTest, TheSameEventGivesTheSameBytes) {
  std::vector<v1::Event> first = AllKinds();
  std::vector<v1::Event> again = AllKinds();
  ASSERT_EQ(first.size(), again.size());
  for (size_t i = 0; i < first.size(); ++i) {
    SCOPED_TRACE(ExampleName(first[i]));
    EXPECT_EQ(FeedbackFhirMessage(first[i]), first[i].referrer_feedback().fhir_message());
    EXPECT_EQ(again[i].referrer_feedback().fhir_message(),
              first[i].referrer_feedback().fhir_message());
    EXPECT_EQ(again[i].envelope().event_id(), first[i].envelope().event_id());
  }
}

TEST_F(FeedbackFhirMessageTest, NoPersonalDetailLeavesInAnyMessageBack) {
  for (bool consent : {true, false}) {
    for (const v1::Event& e : AllKinds(consent)) {
      const std::string bytes = e.SerializeAsString();
      for (const char* planted : kPlanted) {
        EXPECT_EQ(bytes.find(planted), std::string::npos)
            << ExampleName(e) << " carries '" << planted << "'";
      }
    }
  }
}

// The odd cases as the builder makes them, written beside the examples so that HAPI's validator
// (tests/fhir/fhir_validation_test.sh) checks them in CI too: a rejection as intake really seals
// it (no referral id) told to a sending system with no ODS code and no referral id of its own; a
// withdrawal that overtook its match (no case, no link worker, no network); a connection to a
// resource whose name is not ASCII, on an unrouted case (no link worker, no network). Each is a
// message bundle whose references resolve inside, the same bytes twice.
TEST_F(FeedbackFhirMessageTest, TheOddCasesAreMessagesTheValidatorChecksToo) {
  std::map<std::string, v1::Event> odd;
  {
    v1::Event rejected;
    rejected.mutable_referral_rejected()->set_source_system("emis-test");
    rejected.mutable_referral_rejected()->set_reason("1 problem");
    events::Seal(rejected, "", "signpost-intake", kMonday);
    rejected.mutable_envelope()->set_event_id("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0c");
    odd["rejected_no_referrer"] = RejectionFeedback(rejected, "signpost-followup/fu-0");
  }
  {
    v1::Event withdrawn = batch_events::Withdrawn("ref-5");
    withdrawn.mutable_referral_withdrawn()->set_referrer_ods_code("A81001");
    auto change = workflow_.Withdraw(std::nullopt, withdrawn, kMonday);
    ASSERT_TRUE(change.ok()) << change.status();
    for (const auto& out : change->events) {
      if (out.event.has_referrer_feedback()) odd["withdrawn_before_match"] = out.event;
    }
  }
  {
    v1::Event matched = PlantedMatch("ref-6", /*sharing_consent=*/true);
    matched.mutable_referral_matched()->clear_link_worker_id();
    matched.mutable_referral_matched()->clear_network_id();
    auto* option = matched.mutable_referral_matched()->mutable_needs(0)->mutable_options(0);
    option->set_resource_name("Caf\u00e9 Cymraeg \u2615 \U0001D11E <b>&amp;</b> \"quoted\"");
    auto opened = workflow_.Open(matched, kMonday);
    ASSERT_TRUE(opened.ok()) << opened.status();
    LoadedCase c = Apply(*opened);
    v1::RecordContactRequest contact;
    contact.set_link_worker_id("lw-1");
    contact.set_result(v1::CONTACT_RESULT_REACHED);
    auto reached = workflow_.RecordContact(c, contact, kMonday + absl::Hours(1));
    ASSERT_TRUE(reached.ok()) << reached.status();
    c = Apply(*reached, &c);
    v1::AgreePlanRequest plan;
    plan.set_link_worker_id("lw-1");
    plan.set_plan("Amira walks with her neighbour on Tuesdays");
    auto agreed = workflow_.AgreePlan(c, plan, kMonday + absl::Hours(2));
    ASSERT_TRUE(agreed.ok()) << agreed.status();
    c = Apply(*agreed, &c);
    v1::RecordConnectionRequest connect;
    connect.set_link_worker_id("lw-1");
    connect.set_resource_id("walk-1");
    auto connected = workflow_.RecordConnection(c, connect, kMonday + absl::Hours(3));
    ASSERT_TRUE(connected.ok()) << connected.status();
    for (const auto& out : connected->events) {
      if (out.event.has_referrer_feedback()) odd["connected_unicode_unrouted"] = out.event;
    }
  }
  ASSERT_EQ(odd.size(), 3u);
  const std::string dir =
      std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/followup/data/feedback_messages/odd/";
  const bool write = std::getenv("SIGNPOST_WRITE_FEEDBACK_EXAMPLES") != nullptr;
  for (auto& [name, event] : odd) {
    SCOPED_TRACE(name);
    AttachFhirMessage(event);
    const std::string made = event.referrer_feedback().fhir_message();
    EXPECT_EQ(FeedbackFhirMessage(event), made);
    Json bundle = Json::parse(made);
    EXPECT_EQ(bundle["type"], "message");
    std::set<std::string> full_urls;
    for (const auto& entry : bundle["entry"]) full_urls.insert(entry["fullUrl"]);
    const std::string text = bundle.dump();
    for (size_t at = text.find("urn:uuid:"); at != std::string::npos;
         at = text.find("urn:uuid:", at + 1)) {
      EXPECT_TRUE(full_urls.count(text.substr(at, 45))) << text.substr(at, 45);
    }
    const std::string path = dir + name + ".json";
    if (write) {
      std::ofstream(path) << nlohmann::ordered_json::parse(made).dump(2) << "\n";
      continue;
    }
    std::ifstream in(path);
    ASSERT_TRUE(in) << path << " is missing: run with SIGNPOST_WRITE_FEEDBACK_EXAMPLES=1";
    std::stringstream file;
    file << in.rdbuf();
    EXPECT_EQ(Json::parse(file.str()), bundle) << path << " differs from the builder";
    // The bytes too, member order included: a resend carries what was sent before.
    EXPECT_EQ(file.str(), nlohmann::ordered_json::parse(made).dump(2) + "\n")
        << path << ": the members' order or their text differs from the committed bytes";
  }
}

// The examples the HAPI validator checks in CI are what the builder makes now. Run with
// SIGNPOST_WRITE_FEEDBACK_EXAMPLES=1 to write them again after a deliberate change.
TEST_F(FeedbackFhirMessageTest, TheCommittedExamplesAreWhatTheBuilderMakes) {
  const std::string dir =
      std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/followup/data/feedback_messages/";
  const bool write = std::getenv("SIGNPOST_WRITE_FEEDBACK_EXAMPLES") != nullptr;
  std::vector<v1::Event> all = AllKinds();
  for (const char* kind : kKinds) {
    SCOPED_TRACE(kind);
    const std::string made = Of(all, kind).referrer_feedback().fhir_message();
    const std::string path = dir + kind + ".json";
    if (write) {
      std::ofstream(path) << nlohmann::ordered_json::parse(made).dump(2) << "\n";
      continue;
    }
    std::ifstream in(path);
    ASSERT_TRUE(in) << path << " is missing: run with SIGNPOST_WRITE_FEEDBACK_EXAMPLES=1";
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(Json::parse(text.str()), Json::parse(made))
        << path << " differs from the builder: run with SIGNPOST_WRITE_FEEDBACK_EXAMPLES=1";
    // Member order included (Json above sorts its keys): the GP system files these bytes.
    EXPECT_EQ(text.str(), nlohmann::ordered_json::parse(made).dump(2) + "\n")
        << path << ": the members' order or their text differs from the committed bytes";
    EXPECT_EQ(made.rfind(R"({"resourceType":"Bundle")", 0), 0u) << "resourceType comes first";
  }
}

}  // namespace
}  // namespace signpost::followup
