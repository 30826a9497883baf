// The link-worker app's HTTP/JSON API (AppApi) over CaseApi and the in-memory case store, called
// as the listener calls it (a Request in, a Response out; real bearer tokens): JSON with proto
// field names, refusals naming the field, the queue from the token and the case from the path,
// another worker's case refused with nothing audited, the details audited once, and the task
// stream's events (AppTaskStream).
#include "services/followup/app_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/auth/token_verifier.h"
#include "services/followup/app_task_stream.h"
#include "services/followup/sealing_case_store.h"
#include "tests/services/followup/batch_events.h"
#include "tests/services/followup/fakes/in_memory_case_store.h"
#include "tests/services/followup/fakes/unreachable_redis.h"
#include "tests/support/fake_producer.h"
#include "tests/support/test_data_keys.h"
#include "tests/support/test_tokens.h"

namespace signpost::followup {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Request = AppApi::Request;
using Response = AppApi::Response;
using nlohmann::json;

using batch_events::kMonday;

constexpr char kAuditTopic[] = "signpost.audit.access";

v1::Event MatchedWithDetails(const std::string& rid) {
  v1::Event e = batch_events::Matched(rid);
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  r->mutable_identity()->set_given_name("Amira");
  r->mutable_identity()->set_phone("07700900123");
  r->mutable_profile()->set_home_postcode("LS6 2AA");
  r->mutable_profile()->set_postcode_district("LS6");
  auto* option = m->mutable_needs(0)->add_options();
  option->set_resource_id("walk-1");
  option->set_resource_name("Headingley Walking Group");
  return e;
}

using testing::UnreachableRedis;

// The directory: the first option has no place left.
class FullPlaces final : public PlaceReserver {
 public:
  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string& resource_id,
                                                   const std::string&,
                                                   const std::string&) override {
    return absl::ResourceExhaustedError("no place left at Headingley Walking Group (" +
                                        resource_id + "); waitlist closed");
  }
};

// What a stream writes, as the client receives it.
class Received final : public metrics::HttpEndpoint::StreamWriter {
 public:
  bool Write(std::string_view text) override {
    text_.append(text);
    return true;
  }
  std::string text_;
};

std::unique_ptr<auth::CallAuthenticator> TestAuthenticator() {
  auto verifier =
      auth::TokenVerifier::FromFile(signpost::testing::TestTokenKeysPath(), auth::TokenPolicy{});
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return std::make_unique<auth::CallAuthenticator>(*std::move(verifier));
}

class AppApiTest : public ::testing::Test {
 protected:
  AppApiTest()
      : keys_(signpost::testing::TestDataKeys()),
        cipher_(keys_),
        seal_(cipher_),
        store_(memory_, seal_),
        commands_(
            store_, workflow_, &places_, [] { return kMonday; }, nullptr),
        feed_(redis_, redis_, RedisKeys{},
              [this](const std::string& queue) { return SnapshotUpdates(store_, queue); }),
        audit_(producer_, "", "fu-1", [] { return kMonday; }),
        api_(commands_, store_, feed_, audit_, seal_),
        auth_(TestAuthenticator()),
        app_(api_, feed_, *auth_) {
    // r1 is lw-1's case (batch_events::Matched).
    EXPECT_TRUE(commands_.Open(MatchedWithDetails("r1")).ok());
  }

  static std::string Bearer(const std::string& worker) {
    return "Bearer " + signpost::testing::TestToken(signpost::testing::LinkWorker(worker, "pcn-1"));
  }
  static Request Call(const std::string& worker, std::vector<std::string> matches = {},
                      std::string body = "") {
    Request r;
    r.authorization = Bearer(worker);
    r.path_matches = std::move(matches);
    r.body = std::move(body);
    r.content_type = "application/json";
    return r;
  }
  static json Body(const Response& r) { return json::parse(r.body); }
  size_t AuditRecords() const { return producer_.Sent(kAuditTopic).size(); }

  crypto::DataKeyring keys_;
  crypto::PersonalDetailsCipher cipher_;
  CaseDetailsSeal seal_;
  testing::InMemoryCaseStore memory_;
  SealingCaseStore store_;
  CaseWorkflow workflow_{WorkflowOptions{}};
  FullPlaces places_;
  CaseCommands commands_;
  UnreachableRedis redis_;
  TaskFeed feed_;
  signpost::testing::FakeProducer producer_;
  AccessAudit audit_;
  CaseApi api_;
  std::unique_ptr<auth::CallAuthenticator> auth_;
  AppApi app_;
};

TEST_F(AppApiTest, AnswersAreJsonWithProtoFieldNamesAndTheViewIsNotAudited) {
  Response me = app_.Me(Call("lw-1"));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Body(me)["queue"], "lw-1");
  EXPECT_EQ(Body(me)["role"], "link_worker");
  EXPECT_NE(Body(me)["accepted_until"], "");

  Response view = app_.ViewCase(Call("lw-1", {"/app/api/cases/r1", "r1"}));
  ASSERT_EQ(view.status, 200) << view.body;
  json kase = Body(view);
  EXPECT_EQ(kase["referral_id"], "r1");
  EXPECT_EQ(kase["link_worker_id"], "lw-1");
  EXPECT_EQ(kase["needs"][0]["options"].back()["resource_id"], "walk-1");
  EXPECT_FALSE(kase.contains("referralId"));
  EXPECT_FALSE(kase.contains("identity"));
  EXPECT_EQ(view.body.find("Amira"), std::string::npos);
  EXPECT_EQ(view.body.find("LS6 2AA"), std::string::npos);
  EXPECT_EQ(AuditRecords(), 0u);
  for (const char* header : {"Cache-Control", "X-Content-Type-Options", "Referrer-Policy"}) {
    EXPECT_TRUE(std::any_of(view.headers.begin(), view.headers.end(), [&](const auto& h) {
      return h.first == header;
    })) << header;
  }

  Response tasks = app_.Tasks(Call("lw-1"));
  ASSERT_EQ(tasks.status, 200) << tasks.body;
  EXPECT_EQ(Body(tasks)["tasks"][0]["referral_id"], "r1");
  EXPECT_EQ(Body(tasks)["tasks"][0]["status"], "TASK_STATUS_OPEN");
}

TEST_F(AppApiTest, TheDetailsAreAuditedOnceAsTheApp) {
  Response details = app_.Details(
      Call("lw-1", {"/app/api/cases/r1/details", "r1"}, R"({"purpose": "First contact call"})"));
  ASSERT_EQ(details.status, 200) << details.body;
  EXPECT_EQ(Body(details)["identity"]["given_name"], "Amira");
  ASSERT_EQ(AuditRecords(), 1u);
  EXPECT_THAT(producer_.Sent(kAuditTopic)[0].value.value_or(""), HasSubstr("followup-app/GetCase"));

  // No purpose: refused naming it, nothing opened, nothing more audited.
  Response none = app_.Details(Call("lw-1", {"/app/api/cases/r1/details", "r1"}, "{}"));
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(Body(none)["violations"][0]["field"], "purpose");
  EXPECT_EQ(AuditRecords(), 1u);
}

TEST_F(AppApiTest, RefusalsNameTheFieldAndAnActionAnswersNoMoreThanTheView) {
  Response contact = app_.Act(Call("lw-1", {"/app/api/cases/r1/contact", "r1", "contact"},
                                   R"({"result": "CONTACT_RESULT_REACHED", "note": "",
                                       "request_id": "req-1"})"));
  ASSERT_EQ(contact.status, 200) << contact.body;
  EXPECT_EQ(Body(contact)["state"], "CASE_STATE_CONTACTING");
  EXPECT_EQ(contact.body.find("LS6 2AA"), std::string::npos);
  EXPECT_THAT(Body(contact)["applied_request_ids"], IsEmpty());
  Response plan = app_.Act(Call("lw-1", {"/app/api/cases/r1/plan", "r1", "plan"},
                                R"({"plan": "Walking group", "request_id": "req-p"})"));
  ASSERT_EQ(plan.status, 200) << plan.body;

  Response eleven = app_.Act(
      Call("lw-1", {"/app/api/cases/r1/outcome", "r1", "outcome"},
           R"({"measure": {"ons4": {"life_satisfaction": 4, "worthwhile": 5, "happiness": 3,
               "anxiety": 11}}, "request_id": "req-2"})"));
  EXPECT_EQ(eleven.status, 400);
  json refusal = Body(eleven);
  EXPECT_EQ(refusal["code"], "INVALID_ARGUMENT");
  ASSERT_EQ(refusal["violations"].size(), 1u);
  EXPECT_EQ(refusal["violations"][0]["field"], "measure.ons4.anxiety");
  EXPECT_THAT(refusal["violations"][0]["description"].get<std::string>(), HasSubstr("11"));

  // No place left: 409 with the directory's words, as the pages look for.
  Response full = app_.Act(Call("lw-1", {"/app/api/cases/r1/connection", "r1", "connection"},
                                R"({"resource_id": "walk-1", "request_id": "req-3"})"));
  EXPECT_EQ(full.status, 409) << full.body;
  EXPECT_EQ(Body(full)["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(Body(full)["message"].get<std::string>(), HasSubstr("no place left at"));
}

TEST_F(AppApiTest, AFieldTheMessageDoesNotHaveIsRefused400) {
  Response unknown = app_.Act(Call("lw-1", {"/app/api/cases/r1/plan", "r1", "plan"},
                                   R"({"plan": "Lunch club", "shared_with": "everyone"})"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Body(unknown)["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(Body(unknown)["message"].get<std::string>(), HasSubstr("shared_with"));
  Response not_json = app_.Act(Call("lw-1", {"/app/api/cases/r1/plan", "r1", "plan"}, "plan="));
  EXPECT_EQ(not_json.status, 400);
  Response no_action = app_.Act(Call("lw-1", {"/app/api/cases/r1/fly", "r1", "fly"}, "{}"));
  EXPECT_EQ(no_action.status, 404);
  EXPECT_EQ(memory_.VersionOf("r1"), 1);
}

// A body the JSON parser refuses (a value of the wrong type, out of range, not a number, an enum
// name the message does not have, not JSON at all) is a 400 whose violation names the field, as
// the pages show a refusal beside its input; nothing is changed.
TEST_F(AppApiTest, AValueTheParserRefusesIsA400NamingItsField) {
  struct Case {
    std::string action;
    std::string body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {"outcome", R"({"measure": {"ons4": {"life_satisfaction": "NaN"}}})",
            "measure.ons4.life_satisfaction"},
           {"outcome", R"({"measure": {"ons4": {"anxiety": 1e12}}})", "measure.ons4.anxiety"},
           {"outcome", R"({"measure": {"swemwbs": {"answers": [3, 2.5]}}})",
            "measure.swemwbs.answers"},
           {"close", R"({"reason": "CLOSURE_REASON_BORED"})", "reason"},
           {"contact", R"({"result": ["CONTACT_RESULT_REACHED"]})", "result"},
           {"plan", R"({"plan": {"text": "x"}})", "plan"},
           {"plan", R"({"plan": "x", "request_id": 7})", "request_id"},
           {"plan", "plan=walking", "body"},
           {"plan", "[]", "body"},
           {"plan", std::string(5000, '[') + std::string(5000, ']'), "body"},
       }) {
    SCOPED_TRACE(c.body.substr(0, 80));
    Response refused =
        app_.Act(Call("lw-1", {"/app/api/cases/r1/" + c.action, "r1", c.action}, c.body));
    ASSERT_EQ(refused.status, 400) << refused.body;
    json why = Body(refused);
    EXPECT_EQ(why["code"], "INVALID_ARGUMENT");
    ASSERT_EQ(why["violations"].size(), 1u) << refused.body;
    // A repeated field's may say which element ("answers[1]").
    EXPECT_THAT(why["violations"][0]["field"].get<std::string>(), ::testing::StartsWith(c.field))
        << refused.body;
  }
  EXPECT_EQ(memory_.VersionOf("r1"), 1);
}

// Two Authorization headers (the listener joins them with ", "): refused naming the header, not
// answered as the first of them.
TEST_F(AppApiTest, TwoAuthorizationHeadersAreRefused) {
  Request doubled = Call("lw-1");
  doubled.authorization = Bearer("lw-1") + ", Bearer junk";
  Response me = app_.Me(doubled);
  EXPECT_EQ(me.status, 400) << me.body;
  EXPECT_EQ(Body(me)["violations"][0]["field"], "authorization");
}

// A body that does not say it is JSON (a form's, text/plain) is refused naming content-type, and
// nothing is changed; with charset it is JSON still.
TEST_F(AppApiTest, ABodyThatIsNotSaidToBeJsonIsRefused) {
  for (const std::string type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
    SCOPED_TRACE(type);
    Request plain = Call("lw-1", {"/app/api/cases/r1/plan", "r1", "plan"},
                         R"({"plan": "Walking group", "request_id": "req-t"})");
    plain.content_type = type;
    Response refused = app_.Act(plain);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(Body(refused)["violations"][0]["field"], "content-type");
  }
  EXPECT_EQ(memory_.VersionOf("r1"), 1);
  Request with_charset = Call("lw-1", {"/app/api/cases/r1/contact", "r1", "contact"},
                              R"({"result": "CONTACT_RESULT_REACHED", "request_id": "req-c"})");
  with_charset.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(app_.Act(with_charset).status, 200);
}

// The page sends an action again, unchanged, after a lost answer: applied once, and the retry
// answers the case as it is.
TEST_F(AppApiTest, ARetriedActionWithTheSameRequestIdAppliesOnce) {
  const std::string body = R"({"result": "CONTACT_RESULT_NO_ANSWER", "note": "rang twice",
                               "request_id": "7f0c6a2e-retry"})";
  Response first = app_.Act(Call("lw-1", {"/app/api/cases/r1/contact", "r1", "contact"}, body));
  ASSERT_EQ(first.status, 200) << first.body;
  const int64_t version = memory_.VersionOf("r1");
  Response again = app_.Act(Call("lw-1", {"/app/api/cases/r1/contact", "r1", "contact"}, body));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(memory_.VersionOf("r1"), version);
  EXPECT_EQ(Body(again)["state"], Body(first)["state"]);
}

TEST_F(AppApiTest, TheBodyCannotNameAnotherQueueOrCase) {
  // lw-2 names lw-1's queue in the body: refused, naming the field; the case is unchanged.
  Response queue = app_.Act(Call("lw-2", {"/app/api/cases/r1/contact", "r1", "contact"},
                                 R"({"result": "CONTACT_RESULT_REACHED", "link_worker_id": "lw-1",
                                     "request_id": "req-1"})"));
  EXPECT_EQ(queue.status, 400);
  EXPECT_EQ(Body(queue)["violations"][0]["field"], "link_worker_id");
  // lw-1 names another case in the body than the path's.
  Response other = app_.Act(Call("lw-1", {"/app/api/cases/r1/contact", "r1", "contact"},
                                 R"({"result": "CONTACT_RESULT_REACHED", "referral_id": "r2",
                                     "request_id": "req-1"})"));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Body(other)["violations"][0]["field"], "referral_id");
  // ?queue= names another worker's queue: only a development caller may.
  Request asked = Call("lw-2");
  asked.params["queue"] = "lw-1";
  EXPECT_EQ(app_.Tasks(asked).status, 403);
  EXPECT_EQ(memory_.VersionOf("r1"), 1);
}

TEST_F(AppApiTest, AnotherWorkersCaseIs403AndNothingIsAudited) {
  Response view = app_.ViewCase(Call("lw-2", {"/app/api/cases/r1", "r1"}));
  EXPECT_EQ(view.status, 403);
  EXPECT_EQ(Body(view)["code"], "PERMISSION_DENIED");
  Response details = app_.Details(
      Call("lw-2", {"/app/api/cases/r1/details", "r1"}, R"({"purpose": "First contact call"})"));
  EXPECT_EQ(details.status, 403);
  EXPECT_EQ(details.body.find("Amira"), std::string::npos);
  Response close = app_.Act(Call("lw-2", {"/app/api/cases/r1/close", "r1", "close"},
                                 R"({"reason": "CLOSURE_REASON_DECLINED", "request_id": "x"})"));
  EXPECT_EQ(close.status, 403);
  EXPECT_EQ(AuditRecords(), 0u);
  EXPECT_EQ(memory_.VersionOf("r1"), 1);

  Request anonymous = Call("lw-1");
  anonymous.authorization.clear();
  Response me = app_.Me(anonymous);
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(Body(me)["code"], "UNAUTHENTICATED");
}

TEST_F(AppApiTest, WithoutAuthenticationTheQueueIsNamedInTheAddress) {
  auth::CallAuthenticator no_auth(nullptr);
  AppApi development(api_, feed_, no_auth);
  Request asked;
  asked.params["queue"] = "lw-1";
  Response tasks = development.Tasks(asked);
  ASSERT_EQ(tasks.status, 200) << tasks.body;
  EXPECT_EQ(Body(tasks)["tasks"][0]["referral_id"], "r1");
  EXPECT_EQ(Body(development.Me(asked))["role"], "development");
  Response unnamed = development.Tasks(Request{});
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_EQ(Body(unnamed)["violations"][0]["field"], "queue");
}

TEST_F(AppApiTest, TheTaskStreamWritesTheSnapshotThenUpdatesWithResumeIds) {
  auto opened = app_.OpenTaskStream(Call("lw-1"));
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<metrics::HttpEndpoint::Stream>>(opened));
  auto stream = std::move(std::get<std::unique_ptr<metrics::HttpEndpoint::Stream>>(opened));
  EXPECT_EQ(feed_.subscribers(), 1u);
  Received received;
  ASSERT_TRUE(stream->Next(received, absl::ZeroDuration()));
  // A snapshot row with no id, then snapshot_end with the feed's token as its id.
  EXPECT_THAT(received.text_,
              HasSubstr("event: task\ndata: {\"task\":{\"id\":\"r1/first-contact\""));
  EXPECT_THAT(received.text_, HasSubstr("event: task\nid: 1-0\ndata: {"));
  EXPECT_THAT(received.text_, HasSubstr("\"snapshot_end\":true"));

  v1::TaskUpdate later;
  later.mutable_task()->set_id("r1/first-contact");
  later.mutable_task()->set_status(v1::TASK_STATUS_DONE);
  later.set_resume_token("2-0");
  dynamic_cast<TaskFeed::Subscriber&>(*stream).Deliver({later});
  received.text_.clear();
  ASSERT_TRUE(stream->Next(received, absl::ZeroDuration()));
  EXPECT_THAT(received.text_, HasSubstr("id: 2-0\ndata: {"));
  EXPECT_THAT(received.text_, HasSubstr("\"status\":\"TASK_STATUS_DONE\""));
  stream.reset();
  EXPECT_EQ(feed_.subscribers(), 0u);

  // Resuming from an id the feed cannot know: 400, naming it.
  Request bad = Call("lw-1");
  bad.headers["last-event-id"] = "not a token";
  auto refused = app_.OpenTaskStream(bad);
  ASSERT_TRUE(std::holds_alternative<Response>(refused));
  EXPECT_EQ(std::get<Response>(refused).status, 400);
  // Another worker's queue: 403.
  Request other = Call("lw-2");
  other.params["queue"] = "lw-1";
  auto denied = app_.OpenTaskStream(other);
  ASSERT_TRUE(std::holds_alternative<Response>(denied));
  EXPECT_EQ(std::get<Response>(denied).status, 403);
  EXPECT_EQ(feed_.subscribers(), 0u);
}

// The per-person cap on streams is keyed by the owner: coordinators of two networks signed by
// tools/run share the subject `coordinator`, and must not end each other's streams.
TEST_F(AppApiTest, AStreamsOwnerIsOnePersonOfOneRoleAndNetwork) {
  auto call_as = [](const auth::Principal& who) {
    Request r;
    r.authorization = "Bearer " + signpost::testing::TestToken(who);
    return r;
  };
  const auth::Principal north{auth::Role::kCoordinator, "coordinator", {}, "pcn-1"};
  const auth::Principal south{auth::Role::kCoordinator, "coordinator", {}, "pcn-2"};
  const auth::Principal worker{auth::Role::kLinkWorker, "coordinator", {}, "pcn-1"};
  EXPECT_EQ(app_.StreamOwner(call_as(north)), app_.StreamOwner(call_as(north)));
  EXPECT_NE(app_.StreamOwner(call_as(north)), app_.StreamOwner(call_as(south)));
  EXPECT_NE(app_.StreamOwner(call_as(north)), app_.StreamOwner(call_as(worker)));
}

TEST_F(AppApiTest, AStreamEndsWhenTheTokenExpiresAndWhenTooFarBehind) {
  absl::Time now = kMonday;
  auto stream = AppTaskStream::Open(feed_, {}, "lw-1", "1-0", kMonday + absl::Minutes(5),
                                    [&now] { return now; });
  Received received;
  EXPECT_TRUE(stream->Next(received, absl::ZeroDuration()));
  EXPECT_EQ(received.text_, "");
  now += absl::Minutes(5);
  EXPECT_FALSE(stream->Next(received, absl::Seconds(1)));
  EXPECT_EQ(received.text_, "event: expired\ndata: {}\n\n");

  auto behind = AppTaskStream::Open(feed_, {}, "lw-1", "1-0", absl::InfiniteFuture());
  std::vector<v1::TaskUpdate> flood(AppTaskStream::kMaxPending + 1);
  behind->Deliver(flood);
  Received nothing;
  EXPECT_FALSE(behind->Next(nothing, absl::ZeroDuration()));
  EXPECT_EQ(nothing.text_, "");
}

}  // namespace
}  // namespace signpost::followup
