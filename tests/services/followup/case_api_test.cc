// CaseApi over the in-memory case store (no Redis, no gRPC): what a link worker sees of a case
// with and without its personal details, what is audited, whose case is whose, and which queue
// each caller acts as. FollowUpService (gRPC) and the link-worker app both go through it.
#include "services/followup/case_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "common/status/field_violations.h"
#include "services/followup/sealing_case_store.h"
#include "tests/services/followup/batch_events.h"
#include "tests/services/followup/fakes/in_memory_case_store.h"
#include "tests/services/followup/fakes/unreachable_redis.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using batch_events::kMonday;

constexpr char kAuditTopic[] = "signpost.audit.access";

// What the person's details look like, planted to be looked for in answers.
constexpr const char* kPersonal[] = {"Amira", "9434765919", "07700900123", "prefers mornings"};

v1::Event MatchedWithDetails(const std::string& rid) {
  v1::Event e = batch_events::Matched(rid);
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  r->mutable_identity()->set_given_name("Amira");
  r->mutable_identity()->set_nhs_number("9434765919");
  r->mutable_identity()->set_phone("07700900123");
  r->set_notes("Amira prefers mornings.");
  r->mutable_profile()->set_age_years(71);
  r->mutable_profile()->set_home_postcode("LS6 2AA");
  r->mutable_profile()->set_postcode_district("LS6");
  auto* option = m->mutable_needs(0)->add_options();
  option->set_resource_id("walk-1");
  option->set_resource_name("Headingley Walking Group");
  return e;
}

using testing::UnreachableRedis;

// The directory: records each reservation and the token it was made with.
class RecordingPlaceReserver final : public PlaceReserver {
 public:
  struct Reservation {
    std::string resource_id;
    std::string referral_id;
    std::string caller_token;
  };
  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string& resource_id,
                                                   const std::string& referral_id,
                                                   const std::string& caller_token) override {
    reservations.push_back({resource_id, referral_id, caller_token});
    return v1::ReservePlaceResponse();
  }
  std::vector<Reservation> reservations;
};

auth::Principal LinkWorker(const std::string& id) {
  auth::Principal p;
  p.role = auth::Role::kLinkWorker;
  p.subject = id;
  p.network = "pcn-north";
  return p;
}

class CaseApiTest : public ::testing::Test {
 protected:
  CaseApiTest()
      : keys_(signpost::testing::TestDataKeys()),
        cipher_(keys_),
        seal_(cipher_),
        store_(memory_, seal_),
        commands_(
            store_, workflow_, &places_, [] { return kMonday; }, nullptr),
        feed_(redis_, redis_, RedisKeys{},
              [this](const std::string& queue) { return SnapshotUpdates(store_, queue); }),
        audit_(producer_, "", "fu-1", [] { return kMonday; }),
        api_(commands_, store_, feed_, audit_, seal_) {
    EXPECT_TRUE(commands_.Open(MatchedWithDetails("r1")).ok());
  }

  static Acting As(const std::string& worker, const std::string& token = "") {
    auto acting = ActingFor(LinkWorker(worker), "", "test", token);
    EXPECT_TRUE(acting.ok()) << acting.status();
    return *acting;
  }

  size_t AuditRecords() const { return producer_.Sent(kAuditTopic).size(); }

  static void ExpectNothingPersonal(const v1::Case& kase) {
    EXPECT_THAT(PersonalFields(kase), IsEmpty());
    EXPECT_FALSE(kase.has_sealed_details());
    EXPECT_THAT(kase.applied_request_ids(), IsEmpty());
    const std::string bytes = kase.SerializeAsString();
    for (const char* planted : kPersonal) {
      EXPECT_EQ(bytes.find(planted), std::string::npos) << planted;
    }
  }

  crypto::DataKeyring keys_;
  crypto::PersonalDetailsCipher cipher_;
  CaseDetailsSeal seal_;
  testing::InMemoryCaseStore memory_;
  SealingCaseStore store_;
  CaseWorkflow workflow_{WorkflowOptions{}};
  RecordingPlaceReserver places_;
  CaseCommands commands_;
  UnreachableRedis redis_;
  TaskFeed feed_;
  signpost::testing::FakeProducer producer_;
  AccessAudit audit_;
  CaseApi api_;
};

TEST_F(CaseApiTest, ViewCaseCarriesNoPersonalFieldsAndWritesNoAuditRecord) {
  // An action first, so the case holds an applied request id too.
  v1::RecordContactRequest contact;
  contact.set_referral_id("r1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  contact.set_request_id("req-1");
  auto acted = api_.RecordContact(As("lw-1"), contact);
  ASSERT_TRUE(acted.ok()) << acted.status();
  EXPECT_FALSE(acted->has_identity());
  EXPECT_THAT(acted->applied_request_ids(), IsEmpty());

  auto view = api_.ViewCase(As("lw-1"), "r1");
  ASSERT_TRUE(view.ok()) << view.status();
  ExpectNothingPersonal(*view);
  // The case work stays, and where the person lives to the district only.
  EXPECT_EQ(view->referral_id(), "r1");
  EXPECT_EQ(view->state(), v1::CASE_STATE_CONTACTING);
  EXPECT_TRUE(view->reached());
  EXPECT_EQ(view->needs(0).options(0).resource_id(), "walk-1");
  EXPECT_EQ(view->profile().postcode_district(), "LS6");
  EXPECT_EQ(view->profile().age_years(), 71);
  EXPECT_TRUE(view->profile().home_postcode().empty());
  EXPECT_EQ(view->SerializeAsString().find("LS6 2AA"), std::string::npos);
  EXPECT_EQ(view->history_size(), 2);
  EXPECT_EQ(AuditRecords(), 0u);
  // The store still holds the details, sealed, for GetCase.
  auto held = memory_.Load("r1");
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_TRUE((*held)->kase.has_sealed_details());
}

TEST_F(CaseApiTest, GetCaseOpensTheDetailsAndWritesExactlyOneAuditRecordWithTheLabel) {
  v1::GetCaseRequest request;
  request.set_referral_id("r1");
  request.set_purpose("first contact call");
  auto kase = api_.GetCase(As("lw-1"), request, kAuditedAsAppGetCase);
  ASSERT_TRUE(kase.ok()) << kase.status();
  EXPECT_EQ(kase->identity().given_name(), "Amira");
  EXPECT_EQ(kase->referral_notes(), "Amira prefers mornings.");
  EXPECT_FALSE(kase->has_sealed_details());

  auto sent = producer_.Sent(kAuditTopic);
  ASSERT_EQ(sent.size(), 1u);
  kafka::ConsumedMessage m;
  m.value = sent[0].value;
  auto event = events::ParseEvent(m);
  ASSERT_TRUE(event.ok()) << event.status();
  const v1::PersonalDataAccess& access = event->personal_data_access();
  EXPECT_EQ(access.rpc(), "followup-app/GetCase");
  EXPECT_EQ(access.actor(), "lw-1");
  EXPECT_EQ(access.subject(), "lw-1");
  EXPECT_EQ(access.role(), "link_worker");
  EXPECT_EQ(access.purpose(), "first contact call");
  EXPECT_THAT(access.fields(), ElementsAre("identity.nhs_number", "identity.given_name",
                                           "identity.phone", "referral_notes"));

  // A purpose that is not a short label opens nothing and records nothing.
  request.set_purpose(std::string(101, 'x'));
  auto refused = api_.GetCase(As("lw-1"), request, kAuditedAsAppGetCase);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(refused.status()).at(0).field, "purpose");
  EXPECT_EQ(AuditRecords(), 1u);
}

TEST_F(CaseApiTest, AnotherWorkersCaseIsPermissionDeniedAndNothingIsAuditedOrChanged) {
  const Acting other = As("lw-2");
  EXPECT_EQ(api_.ViewCase(other, "r1").status().code(), absl::StatusCode::kPermissionDenied);
  v1::GetCaseRequest get;
  get.set_referral_id("r1");
  get.set_purpose("first contact call");
  EXPECT_EQ(api_.GetCase(other, get, kAuditedAsAppGetCase).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::RecordContactRequest contact;
  contact.set_referral_id("r1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  // The request's own link_worker_id does not count: the acting queue does.
  contact.set_link_worker_id("lw-1");
  EXPECT_EQ(api_.RecordContact(other, contact).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::CloseCaseRequest close;
  close.set_referral_id("r1");
  close.set_reason(v1::CLOSURE_REASON_DECLINED);
  EXPECT_EQ(api_.CloseCase(other, close).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AuditRecords(), 0u);
  EXPECT_EQ(memory_.VersionOf("r1"), 1);
  auto tasks = api_.ListTasks(other);
  ASSERT_TRUE(tasks.ok());
  EXPECT_THAT(*tasks, IsEmpty());
  // Not there at all: NOT_FOUND.
  EXPECT_EQ(api_.ViewCase(As("lw-1"), "r-none").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CaseApiTest, EachActionAnswersTheCaseWithoutDetailsAndConnectingUsesTheCallersToken) {
  const Acting lw1 = As("lw-1", "token-of-lw-1");
  v1::RecordContactRequest contact;
  contact.set_referral_id("r1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  ASSERT_TRUE(api_.RecordContact(lw1, contact).ok());
  v1::AgreePlanRequest plan;
  plan.set_referral_id("r1");
  plan.set_plan("walking");
  ASSERT_TRUE(api_.AgreePlan(lw1, plan).ok());
  v1::RecordConnectionRequest connect;
  connect.set_referral_id("r1");
  connect.set_resource_id("walk-1");
  connect.set_request_id("connect-1");
  auto connected = api_.RecordConnection(lw1, connect);
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(connected->state(), v1::CASE_STATE_CONNECTED);
  EXPECT_THAT(PersonalFields(*connected), IsEmpty());
  EXPECT_FALSE(connected->has_sealed_details());
  EXPECT_THAT(connected->applied_request_ids(), IsEmpty());
  ASSERT_EQ(places_.reservations.size(), 1u);
  EXPECT_EQ(places_.reservations[0].resource_id, "walk-1");
  EXPECT_EQ(places_.reservations[0].referral_id, "r1");
  EXPECT_EQ(places_.reservations[0].caller_token, "token-of-lw-1");
  // The same request again (a retry after a lost answer): no second place.
  ASSERT_TRUE(api_.RecordConnection(lw1, connect).ok());
  EXPECT_EQ(places_.reservations.size(), 1u);

  v1::RecordAttendanceRequest attendance;
  attendance.set_referral_id("r1");
  attendance.set_attended(true);
  auto attended = api_.RecordAttendance(lw1, attendance);
  ASSERT_TRUE(attended.ok()) << attended.status();
  EXPECT_EQ(attended->state(), v1::CASE_STATE_FOLLOW_UP);
  v1::RecordOutcomeRequest outcome;
  outcome.set_referral_id("r1");
  outcome.mutable_measure()->mutable_ons4()->set_anxiety(11);
  auto bad = api_.RecordOutcome(lw1, outcome);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(bad.status()).at(0).field, "measure.ons4.anxiety");
  outcome.mutable_measure()->mutable_ons4()->set_anxiety(3);
  ASSERT_TRUE(api_.RecordOutcome(lw1, outcome).ok());
  v1::ReassignCaseRequest reassign;
  reassign.set_referral_id("r1");
  reassign.set_to_link_worker_id("lw-2");
  auto reassigned = api_.ReassignCase(lw1, reassign);
  ASSERT_TRUE(reassigned.ok()) << reassigned.status();
  EXPECT_EQ(reassigned->link_worker_id(), "lw-2");
  v1::CloseCaseRequest close;
  close.set_referral_id("r1");
  close.set_reason(v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(api_.CloseCase(lw1, close).status().code(), absl::StatusCode::kPermissionDenied);
  auto closed = api_.CloseCase(As("lw-2"), close);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state(), v1::CASE_STATE_CLOSED);
  ExpectNothingPersonal(*closed);
  EXPECT_EQ(AuditRecords(), 0u);
}

TEST_F(CaseApiTest, ListAndCompleteTasksActAsTheCallersQueue) {
  auto tasks = api_.ListTasks(As("lw-1"));
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].id(), "r1/first-contact");
  v1::CompleteTaskRequest done;
  done.set_task_id("r1/first-contact");
  EXPECT_EQ(api_.CompleteTask(As("lw-2"), done).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto completed = api_.CompleteTask(As("lw-1"), done);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->status(), v1::TASK_STATUS_DONE);
  tasks = api_.ListTasks(As("lw-1"));
  ASSERT_TRUE(tasks.ok());
  EXPECT_THAT(*tasks, IsEmpty());
}

TEST_F(CaseApiTest, AStreamStartsWithTheSnapshotAndItsCursorAndRefusesAMalformedToken) {
  auto start = api_.StreamStart("lw-1", "");
  ASSERT_TRUE(start.ok()) << start.status();
  ASSERT_EQ(start->first.size(), 2u);
  EXPECT_TRUE(start->first[0].snapshot());
  EXPECT_EQ(start->first[0].task().id(), "r1/first-contact");
  EXPECT_TRUE(start->first[0].resume_token().empty());
  EXPECT_TRUE(start->first[1].snapshot_end());
  EXPECT_EQ(start->first[1].resume_token(), start->cursor);
  EXPECT_EQ(start->cursor, "1-0");  // the in-memory feed after the case's one task write

  auto bad = api_.StreamStart("lw-1", "not a token");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(bad.status()).at(0).field, "resume_token");
}

TEST(ActingForTest, EachRoleActsAsTheQueueItMay) {
  auto worker = ActingFor(LinkWorker("lw-1"), "", "FollowUpService/ListTasks", "tok");
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_EQ(worker->queue, "lw-1");
  EXPECT_EQ(worker->caller.subject, "lw-1");
  EXPECT_EQ(worker->bearer_token, "tok");
  EXPECT_EQ(ActingFor(LinkWorker("lw-1"), "lw-1", "rpc", "").value().queue, "lw-1");
  auto not_theirs = ActingFor(LinkWorker("lw-1"), "lw-2", "FollowUpService/ListTasks", "");
  EXPECT_EQ(not_theirs.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(not_theirs.status().message()), HasSubstr("FollowUpService/ListTasks"));
  EXPECT_EQ(ActingFor(LinkWorker("team:pcn-north"), "", "rpc", "").status().code(),
            absl::StatusCode::kPermissionDenied);

  auth::Principal coordinator;
  coordinator.role = auth::Role::kCoordinator;
  coordinator.subject = "coordinator";
  coordinator.network = "pcn-north";
  EXPECT_EQ(ActingFor(coordinator, "", "rpc", "").value().queue, "team:pcn-north");
  EXPECT_EQ(ActingFor(coordinator, "team:pcn-north", "rpc", "").value().queue, "team:pcn-north");
  EXPECT_EQ(ActingFor(coordinator, "lw-1", "rpc", "").status().code(),
            absl::StatusCode::kPermissionDenied);
  coordinator.network.clear();
  EXPECT_EQ(ActingFor(coordinator, "", "rpc", "").status().code(),
            absl::StatusCode::kPermissionDenied);

  const auth::Principal development = auth::DevelopmentCaller();
  EXPECT_EQ(ActingFor(development, "lw-7", "rpc", "").value().queue, "lw-7");
  EXPECT_EQ(ActingFor(development, "team:pcn-south", "rpc", "").value().queue, "team:pcn-south");
  auto unnamed = ActingFor(development, "", "rpc", "");
  EXPECT_EQ(unnamed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(unnamed.status()).at(0).field, "link_worker_id");

  auth::Principal ops;
  ops.role = auth::Role::kOps;
  ops.subject = "monitor";
  EXPECT_EQ(ActingFor(ops, "", "rpc", "").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(CheckPurposeTest, APurposeIsAShortLabel) {
  EXPECT_TRUE(CheckPurpose("").ok());
  EXPECT_TRUE(CheckPurpose("first contact call").ok());
  EXPECT_TRUE(CheckPurpose(std::string(100, 'x')).ok());
  for (const std::string& bad : {std::string(101, 'x'), std::string("line\nbreak")}) {
    absl::Status s = CheckPurpose(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    ASSERT_EQ(ViolationsOf(s).size(), 1u);
    EXPECT_EQ(ViolationsOf(s)[0].field, "purpose");
  }
}

}  // namespace
}  // namespace signpost::followup
