#include "services/intake/fhir_task.h"

#include <gtest/gtest.h>

namespace signpost::intake {
namespace {

using nlohmann::json;

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

v1::GetReferralResponse View(v1::ReferralState state,
                             v1::ClosureReason closure = v1::CLOSURE_REASON_UNSPECIFIED) {
  v1::GetReferralResponse view;
  view.set_referral_id("ref-1");
  view.set_state(state);
  view.set_closure_reason(closure);
  view.mutable_source()->set_source_system("emis-leeds-north");
  view.mutable_source()->set_source_referral_id("EMIS-2026-000123");
  view.set_referrer_ods_code("B86001");
  view.set_priority(v1::URGENCY_ROUTINE);
  *view.mutable_updated_at() = At(1796000200);
  auto* received = view.add_history();
  received->set_state(v1::REFERRAL_STATE_RECEIVED);
  *received->mutable_at() = At(1796000000);
  received->set_detail("received");
  return view;
}

TEST(FhirTaskTest, EveryReferralStateMapsToAGravityTaskStatus) {
  struct Case {
    v1::ReferralState state;
    v1::ClosureReason closure;
    std::string status;
    std::string business;
    bool explained;  // statusReason.text given
  } cases[] = {
      {v1::REFERRAL_STATE_SUBMITTED, v1::CLOSURE_REASON_UNSPECIFIED, "requested", "SUBMITTED",
       false},
      {v1::REFERRAL_STATE_RECEIVED, v1::CLOSURE_REASON_UNSPECIFIED, "requested", "RECEIVED", false},
      {v1::REFERRAL_STATE_MATCHED, v1::CLOSURE_REASON_UNSPECIFIED, "accepted", "MATCHED", false},
      {v1::REFERRAL_STATE_ASSIGNED, v1::CLOSURE_REASON_UNSPECIFIED, "accepted", "ASSIGNED", false},
      {v1::REFERRAL_STATE_IN_CONTACT, v1::CLOSURE_REASON_UNSPECIFIED, "in-progress", "IN_CONTACT",
       false},
      {v1::REFERRAL_STATE_CONNECTED, v1::CLOSURE_REASON_UNSPECIFIED, "in-progress", "CONNECTED",
       false},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_COMPLETED, "completed", "CLOSED", false},
      // Closed before closure reasons were kept in the view.
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_UNSPECIFIED, "completed", "CLOSED", false},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_DECLINED, "cancelled", "CLOSED", true},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_WITHDRAWN, "cancelled", "CLOSED", true},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_UNABLE_TO_CONTACT, "failed", "CLOSED", true},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_NO_SUITABLE_PROVISION, "failed", "CLOSED",
       true},
      {v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_EXPIRED, "failed", "CLOSED", true},
      {v1::REFERRAL_STATE_WITHDRAWN, v1::CLOSURE_REASON_UNSPECIFIED, "cancelled", "WITHDRAWN",
       true},
      {v1::REFERRAL_STATE_REJECTED, v1::CLOSURE_REASON_UNSPECIFIED, "rejected", "REJECTED", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(v1::ReferralState_Name(c.state) + " " + v1::ClosureReason_Name(c.closure));
    json task = TaskFromStatus(View(c.state, c.closure));
    EXPECT_EQ(task["status"], c.status);
    EXPECT_EQ(task["businessStatus"]["coding"][0]["system"], "urn:signpost:referral-state");
    EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], c.business);
    EXPECT_EQ(task.contains("statusReason"), c.explained);
    if (c.explained) {
      EXPECT_FALSE(task["statusReason"]["text"].get<std::string>().empty());
    }
  }
  // Every state the enum has is mapped (a new one fails here until it is).
  for (int s = v1::ReferralState_MIN + 1; s <= v1::ReferralState_MAX; ++s) {
    if (!v1::ReferralState_IsValid(s)) continue;
    bool listed = false;
    for (const auto& c : cases) listed |= c.state == s;
    EXPECT_TRUE(listed) << v1::ReferralState_Name(static_cast<v1::ReferralState>(s));
  }
}

TEST(FhirTaskTest, ClosureSaysWhyInTheReasonAndTheBusinessStatus) {
  json task = TaskFromStatus(View(v1::REFERRAL_STATE_CLOSED, v1::CLOSURE_REASON_DECLINED));
  EXPECT_EQ(task["statusReason"]["coding"][0]["system"], "urn:signpost:closure-reason");
  EXPECT_EQ(task["statusReason"]["coding"][0]["code"], "DECLINED");
  EXPECT_EQ(task["statusReason"]["text"], "the person declined social prescribing");
  EXPECT_EQ(task["businessStatus"]["text"], "CLOSED (declined)");

  v1::GetReferralResponse withdrawn = View(v1::REFERRAL_STATE_WITHDRAWN);
  auto* change = withdrawn.add_history();
  change->set_state(v1::REFERRAL_STATE_WITHDRAWN);
  *change->mutable_at() = At(1796000100);
  change->set_detail("WITHDRAWAL_REASON_CANCELLED_BY_REFERRER: sent in error");
  EXPECT_EQ(TaskFromStatus(withdrawn)["statusReason"]["text"],
            "withdrawn by the referrer (WITHDRAWAL_REASON_CANCELLED_BY_REFERRER: sent in error)");
}

TEST(FhirTaskTest, TheTaskHasGravitysShapeAndNoPersonalDetails) {
  v1::GetReferralResponse view = View(v1::REFERRAL_STATE_CONNECTED);
  view.set_link_worker_id("lw-7");
  auto* connection = view.add_connections();
  connection->set_resource_id("res-walking-group");
  connection->set_resource_name("Leeds Walking Group");
  *connection->mutable_at() = At(1796000150);
  json task = TaskFromStatus(view);

  EXPECT_EQ(task["resourceType"], "Task");
  EXPECT_EQ(task["id"], "ref-1");
  EXPECT_FALSE(task["meta"].contains("profile"));  // unknown offline: an error for HAPI
  EXPECT_EQ(task["intent"], "order");
  EXPECT_EQ(task["priority"], "routine");
  EXPECT_EQ(task["code"]["coding"][0]["system"], "http://hl7.org/fhir/CodeSystem/task-code");
  EXPECT_EQ(task["code"]["coding"][0]["code"], "fulfill");
  EXPECT_EQ(task["focus"]["reference"], "ServiceRequest/ref-1");
  const json sender = {{"system", "urn:signpost:source-system:emis-leeds-north"},
                       {"value", "EMIS-2026-000123"}};
  EXPECT_EQ(task["focus"]["identifier"], sender);
  EXPECT_EQ(task["identifier"][0], sender);
  EXPECT_EQ(task["for"]["type"], "Patient");
  EXPECT_EQ(task["for"]["identifier"]["system"], "urn:signpost:referral-subject");
  EXPECT_EQ(task["for"]["identifier"]["value"], "ref-1");
  EXPECT_FALSE(task["for"].contains("reference"));
  EXPECT_EQ(task["authoredOn"], "2026-11-30T00:53:20.000Z");
  EXPECT_EQ(task["lastModified"], "2026-11-30T00:56:40.000Z");
  EXPECT_EQ(task["requester"]["identifier"]["system"],
            "https://fhir.nhs.uk/Id/ods-organization-code");
  EXPECT_EQ(task["requester"]["identifier"]["value"], "B86001");
  EXPECT_EQ(task["owner"]["type"], "PractitionerRole");
  EXPECT_EQ(task["owner"]["identifier"]["value"], "lw-7");
  ASSERT_EQ(task["output"].size(), 1u);
  EXPECT_EQ(task["output"][0]["type"]["coding"][0]["code"], "resulting-activity");
  EXPECT_EQ(task["output"][0]["valueCodeableConcept"]["coding"][0]["code"], "res-walking-group");
  EXPECT_EQ(task["output"][0]["valueCodeableConcept"]["text"],
            "Connected to Leeds Walking Group on 2026-11-30");
  ASSERT_EQ(task["note"].size(), 1u);
  EXPECT_EQ(task["note"][0]["text"], "RECEIVED: received");
  EXPECT_EQ(task["note"][0]["time"], "2026-11-30T00:53:20.000Z");

  // Before a link worker has it: no owner, no output.
  json open = TaskFromStatus(View(v1::REFERRAL_STATE_MATCHED));
  EXPECT_FALSE(open.contains("owner"));
  EXPECT_FALSE(open.contains("output"));
}

TEST(FhirTaskTest, SearchsetCountsItsTasks) {
  json empty = TaskSearchset({}, "https://intake/fhir", "Task?focus=ServiceRequest/x");
  EXPECT_EQ(empty["type"], "searchset");
  EXPECT_EQ(empty["total"], 0);
  EXPECT_FALSE(empty.contains("entry"));
  EXPECT_EQ(empty["link"][0]["url"], "https://intake/fhir/Task?focus=ServiceRequest/x");
  json one = TaskSearchset({TaskFromStatus(View(v1::REFERRAL_STATE_RECEIVED))},
                           "https://intake/fhir", "Task?focus=ServiceRequest/ref-1");
  EXPECT_EQ(one["total"], 1);
  EXPECT_EQ(one["entry"][0]["fullUrl"], "https://intake/fhir/Task/ref-1");
  EXPECT_EQ(one["entry"][0]["search"]["mode"], "match");
}

TEST(FhirTaskTest, TheSendersIdentifierSystemNamesItsSourceSystem) {
  EXPECT_EQ(fhir::SourceIdentifierSystem("emis-leeds-north"),
            "urn:signpost:source-system:emis-leeds-north");
  EXPECT_EQ(SourceSystemOf("urn:signpost:source-system:emis-leeds-north"), "emis-leeds-north");
  EXPECT_EQ(SourceSystemOf("emis-leeds-north"), "emis-leeds-north");
}

}  // namespace
}  // namespace signpost::intake
