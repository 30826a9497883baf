// GET /fhir/Task against the real signpost-intake binary, the run's Kafka and a real redis-server:
// the referral's lifecycle events published on the real topics as matching and follow-up publish
// them, and the Task read over HTTP as a GP system would read it.
#include <httplib.h>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tests/services/intake/referral_builder.h"
#include "tests/support/kafka_redis_test.h"
#include "tests/support/service_process.h"
#include "tests/support/test_tokens.h"
#include "tests/support/wait_until.h"

namespace signpost::intake {
namespace {

using nlohmann::json;
using signpost::testing::Referrer;
using signpost::testing::TestToken;
using ::testing::HasSubstr;
using ::testing::Not;

class FhirTaskIntegrationTest : public signpost::testing::KafkaRedisTest {
 protected:
  void SetUp() override {
    KafkaRedisTest::SetUp();
    if (HasFatalFailure()) return;
    kafka::ProducerOptions options;
    options.bootstrap = env_.bootstrap;
    auto producer = kafka::KafkaProducer::Create(options);
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }
  void StartIntake(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args{
        "--kafka-bootstrap", env_.bootstrap, "--topic-prefix", env_.prefix,        "--redis",
        redis_.address(),    "--listen",     "127.0.0.1:0",    "--metrics-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    intake_ = std::make_unique<signpost::testing::ServiceProcess>(
        signpost::testing::BinaryPath("signpost-intake"), std::move(args),
        std::map<std::string, std::string>{
            {"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()}});
    ASSERT_TRUE(intake_->Start().ok());
  }
  void TearDown() override {
    if (HasFailure() && intake_) std::cerr << "intake log:\n" << intake_->Logs();
  }

  std::string SubmitAs(const std::string& token) {
    auto stub = v1::IntakeService::NewStub(
        grpc::CreateChannel(intake_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auth::AttachBearerToken(context, token);
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = testing::ValidReferral();  // from practice B86001
    v1::SubmitReferralResponse response;
    grpc::Status status = stub->SubmitReferral(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.referral_id();
  }

  grpc::Status WithdrawAs(const std::string& id, const std::string& token) {
    auto stub = v1::IntakeService::NewStub(
        grpc::CreateChannel(intake_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auth::AttachBearerToken(context, token);
    v1::WithdrawReferralRequest request;
    request.set_referral_id(id);
    request.set_reason(v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER);
    request.set_detail("sent to the wrong service");
    v1::WithdrawReferralResponse response;
    return stub->WithdrawReferral(&context, request, &response);
  }

  // An event on `topic` as matching or follow-up publishes it: keyed by the referral id.
  void Publish(kafka::Topic topic, const std::string& referral_id, v1::Event event, absl::Time at) {
    events::Seal(event, referral_id, "test", at);
    absl::Status sent = producer_->Send(events::ToMessage(event, env_.Topic(topic), referral_id));
    ASSERT_TRUE(sent.ok()) << sent;
  }
  v1::Event CaseEvent(v1::CaseState from, v1::CaseState to, const std::string& reason) {
    v1::Event event;
    auto* c = event.mutable_case_event();
    c->set_from_state(from);
    c->set_to_state(to);
    c->set_link_worker_id("lw-7");
    c->set_network_id("pcn-leeds");
    c->set_actor("lw-7");
    c->set_reason(reason);
    c->set_referrer_ods_code("B86001");
    return event;
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Client client("127.0.0.1", intake_->metrics_port());
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Get(path, headers);
  }
  // The Task once `ready` holds for it (the status consumer applies events as they come).
  json TaskWhen(const std::string& id, const std::string& token,
                const std::function<bool(const json&)>& ready) {
    json task;
    bool seen = signpost::testing::WaitUntil(
        [&] {
          auto r = Get("/fhir/Task/" + id, token);
          if (!r || r->status != 200) return false;
          task = json::parse(r->body, nullptr, false);
          return !task.is_discarded() && ready(task);
        },
        absl::Seconds(60));
    EXPECT_TRUE(seen) << "last Task seen: " << task.dump(2);
    return task;
  }

  std::unique_ptr<signpost::testing::ServiceProcess> intake_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
};

TEST_F(FhirTaskIntegrationTest, AGpSystemReadsTheTaskThroughItsLifecycle) {
  StartIntake();
  const std::string own = TestToken(Referrer({"B86001"}));
  const std::string id = SubmitAs(own);
  ASSERT_FALSE(id.empty());
  const absl::Time t0 = absl::Now();

  // Received: requested, as the GP sent it.
  json task = TaskWhen(id, own, [](const json& t) { return t["status"] == "requested"; });
  EXPECT_EQ(task["resourceType"], "Task");
  EXPECT_EQ(task["id"], id);
  EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], "RECEIVED");
  EXPECT_EQ(task["focus"]["reference"], "ServiceRequest/" + id);
  EXPECT_EQ(task["focus"]["identifier"]["value"], "EMIS-2026-000123");
  EXPECT_EQ(task["requester"]["identifier"]["value"], "B86001");
  EXPECT_FALSE(task.contains("owner"));
  // Nothing of the person leaves: not their name, NHS number nor postcode.
  EXPECT_THAT(task.dump(), Not(HasSubstr(testing::ValidReferral().identity().family_name())));
  EXPECT_THAT(task.dump(), Not(HasSubstr("9434765919")));
  EXPECT_THAT(task.dump(), Not(HasSubstr(testing::ValidReferral().identity().nhs_number())));

  // Matched and assigned to a link worker: accepted, the link worker's role the owner.
  v1::Event matched;
  *matched.mutable_referral_matched()->mutable_referral() = testing::ValidReferral();
  matched.mutable_referral_matched()->set_link_worker_id("lw-7");
  matched.mutable_referral_matched()->set_network_id("pcn-leeds");
  Publish(kafka::Topic::kReferralMatched, id, matched, t0 + absl::Seconds(1));
  Publish(kafka::Topic::kFollowupEvents, id,
          CaseEvent(v1::CASE_STATE_UNSPECIFIED, v1::CASE_STATE_ASSIGNED, "nearest with room"),
          t0 + absl::Seconds(2));
  task = TaskWhen(id, own, [](const json& t) {
    return t["businessStatus"]["coding"][0]["code"] == "ASSIGNED";
  });
  EXPECT_EQ(task["status"], "accepted");
  EXPECT_EQ(task["owner"]["type"], "PractitionerRole");
  EXPECT_EQ(task["owner"]["identifier"]["value"], "lw-7");

  // Contacted, then connected to a resource: in progress, the connection an output.
  Publish(kafka::Topic::kFollowupEvents, id,
          CaseEvent(v1::CASE_STATE_ASSIGNED, v1::CASE_STATE_CONTACTING, "contact attempt 1"),
          t0 + absl::Seconds(3));
  task = TaskWhen(id, own, [](const json& t) { return t["status"] == "in-progress"; });
  EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], "IN_CONTACT");
  v1::Event connected = CaseEvent(v1::CASE_STATE_CONTACTING, v1::CASE_STATE_CONNECTED,
                                  "connected to Leeds Walking Group");
  connected.mutable_case_event()->set_connected_resource_id("res-walking-group");
  Publish(kafka::Topic::kFollowupEvents, id, connected, t0 + absl::Seconds(4));
  task = TaskWhen(id, own, [](const json& t) { return t.contains("output"); });
  EXPECT_EQ(task["status"], "in-progress");
  EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], "CONNECTED");
  ASSERT_EQ(task["output"].size(), 1u);
  EXPECT_EQ(task["output"][0]["type"]["coding"][0]["code"], "resulting-activity");
  EXPECT_EQ(task["output"][0]["valueCodeableConcept"]["coding"][0]["code"], "res-walking-group");
  EXPECT_EQ(task["output"][0]["valueCodeableConcept"]["coding"][0]["display"],
            "Leeds Walking Group");

  // Closed, completed.
  v1::Event closed =
      CaseEvent(v1::CASE_STATE_CONNECTED, v1::CASE_STATE_CLOSED, "closed: completed");
  closed.mutable_case_event()->set_closure_reason(v1::CLOSURE_REASON_COMPLETED);
  Publish(kafka::Topic::kFollowupEvents, id, closed, t0 + absl::Seconds(5));
  task = TaskWhen(id, own, [](const json& t) { return t["status"] == "completed"; });
  EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], "CLOSED");
  EXPECT_EQ(task["businessStatus"]["text"], "CLOSED (completed)");
  EXPECT_EQ(task["owner"]["identifier"]["value"], "lw-7");
  EXPECT_EQ(task["output"].size(), 1u);
  EXPECT_EQ(task["note"].size(), 6u) << task["note"].dump(2);

  // The same Task by search: by focus, and by the sender's own identifier of its ServiceRequest.
  for (const std::string& search :
       {absl::StrCat("/fhir/Task?focus=ServiceRequest/", id),
        std::string("/fhir/Task?identifier=urn:signpost:source-system:emis-leeds-north%7C"
                    "EMIS-2026-000123"),
        std::string("/fhir/Task?identifier=emis-leeds-north|EMIS-2026-000123"),
        absl::StrCat("/fhir/Task?focus=", id, "&_format=json")}) {
    SCOPED_TRACE(search);
    auto r = Get(search, own);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/fhir+json");
    json bundle = json::parse(r->body);
    EXPECT_EQ(bundle["type"], "searchset");
    EXPECT_EQ(bundle["total"], 1);
    ASSERT_EQ(bundle["entry"].size(), 1u);
    EXPECT_EQ(bundle["entry"][0]["resource"]["id"], id);
    EXPECT_EQ(bundle["entry"][0]["resource"]["status"], "completed");
  }
  // No match: an empty searchset.
  for (const std::string& search :
       {std::string("/fhir/Task?focus=ServiceRequest/ref-unknown"),
        std::string("/fhir/Task?identifier=emis-leeds-north|EMIS-NOT-SENT")}) {
    auto r = Get(search, own);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["total"], 0) << search;
  }
}

TEST_F(FhirTaskIntegrationTest, OnlyTheReferringPracticeSeesItsTask) {
  StartIntake();
  const std::string own = TestToken(Referrer({"B86001"}));
  const std::string id = SubmitAs(own);
  ASSERT_FALSE(id.empty());
  TaskWhen(id, own, [](const json& t) { return t["status"] == "requested"; });

  auto expect_outcome = [](const httplib::Result& r, int status) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/fhir+json");
    json body = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r->body;
    EXPECT_EQ(body["resourceType"], "OperationOutcome") << r->body;
    EXPECT_EQ(body["issue"][0]["severity"], "error") << r->body;
  };

  // No token, and a token no key signs: 401 with a Bearer challenge.
  for (const std::string& token :
       {std::string(), TestToken(Referrer({"B86001"}), absl::Hours(1),
                                 signpost::testing::UntrustedTokenSigningKeyPath())}) {
    auto r = Get("/fhir/Task/" + id, token);
    expect_outcome(r, 401);
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    expect_outcome(Get("/fhir/Task?focus=ServiceRequest/" + id, token), 401);
  }

  // Another practice: 403, saying neither whose the referral is nor what it holds.
  const std::string other = TestToken(Referrer({"C81001"}));
  for (const std::string& path :
       {"/fhir/Task/" + id, "/fhir/Task?focus=ServiceRequest/" + id,
        std::string("/fhir/Task?identifier=emis-leeds-north|EMIS-2026-000123")}) {
    SCOPED_TRACE(path);
    auto r = Get(path, other);
    expect_outcome(r, 403);
    EXPECT_THAT(r->body, Not(HasSubstr("B86001")));
    EXPECT_THAT(r->body, Not(HasSubstr("EMIS-2026-000123")));
  }
  // A link worker's token asks no referral's status here.
  expect_outcome(Get("/fhir/Task/" + id, TestToken(signpost::testing::LinkWorker("lw-7", "pcn"))),
                 403);

  // An unknown id: 404.
  expect_outcome(Get("/fhir/Task/ref-never-sent", own), 404);

  // A search parameter not supported: 400, naming it; an identifier without its system: 400.
  auto unsupported = Get("/fhir/Task?status=completed", own);
  expect_outcome(unsupported, 400);
  EXPECT_THAT(unsupported->body, HasSubstr("status"));
  auto xml = Get("/fhir/Task?focus=ServiceRequest/" + id + "&_format=xml", own);
  expect_outcome(xml, 400);
  EXPECT_THAT(xml->body, HasSubstr("_format"));
  auto bare = Get("/fhir/Task?identifier=EMIS-2026-000123", own);
  expect_outcome(bare, 400);
  EXPECT_THAT(bare->body, HasSubstr("identifier"));
  expect_outcome(Get("/fhir/Task", own), 400);
}

// Withdrawn, then past --status-retention-days: the Task is gone (410), not unknown (404), and a
// search finds nothing and says why.
TEST_F(FhirTaskIntegrationTest, ATaskNoLongerHeldIsGone) {
  const std::string clock_file = redis_.dir() + "/clock-offset";
  std::ofstream(clock_file) << "0\n";
  StartIntake({"--clock-offset-file", clock_file, "--status-retention-days", "30",
               "--status-tombstone-days", "60", "--retention-sweep-seconds", "1"});
  // Tokens that outlive the moved clock.
  const std::string own = TestToken(Referrer({"B86001"}), absl::Hours(24 * 365));
  const std::string other = TestToken(Referrer({"C81001"}), absl::Hours(24 * 365));
  const std::string id = SubmitAs(own);
  ASSERT_FALSE(id.empty());
  grpc::Status withdrawn = WithdrawAs(id, own);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.error_message();
  json task = TaskWhen(id, own, [](const json& t) { return t["status"] == "cancelled"; });
  EXPECT_EQ(task["businessStatus"]["coding"][0]["code"], "WITHDRAWN");
  EXPECT_THAT(task["statusReason"]["text"].get<std::string>(),
              HasSubstr("sent to the wrong service"));

  std::ofstream(clock_file) << int64_t{31} * 24 * 3600 << "\n";
  int gone_status = 0;
  std::string gone_body, gone_type;
  ASSERT_TRUE(signpost::testing::WaitUntil([&] {
    auto r = Get("/fhir/Task/" + id, own);
    if (!r) return false;
    gone_status = r->status;
    gone_body = r->body;
    gone_type = r->get_header_value("Content-Type");
    return gone_status == 410;
  })) << gone_status
      << " " << gone_body;
  json outcome = json::parse(gone_body);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_THAT(outcome["issue"][0]["diagnostics"].get<std::string>(), HasSubstr("no longer held"));
  EXPECT_EQ(outcome["issue"][0]["code"], "deleted");
  EXPECT_THAT(outcome.dump(), Not(HasSubstr("REC_SERVER_ERROR")));
  EXPECT_EQ(gone_type, "application/fhir+json");

  auto search = Get("/fhir/Task?focus=ServiceRequest/" + id, own);
  ASSERT_TRUE(search);
  EXPECT_EQ(search->status, 200) << search->body;
  json bundle = json::parse(search->body);
  EXPECT_EQ(bundle["total"], 0);
  ASSERT_EQ(bundle["entry"].size(), 1u);
  EXPECT_EQ(bundle["entry"][0]["search"]["mode"], "outcome");
  EXPECT_THAT(bundle["entry"][0]["fullUrl"].get<std::string>(), ::testing::StartsWith("urn:uuid:"));
  EXPECT_EQ(bundle["entry"][0]["resource"]["resourceType"], "OperationOutcome");

  // Gone or not, another practice is told nothing of it.
  auto refused = Get("/fhir/Task/" + id, other);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
}

}  // namespace
}  // namespace signpost::intake
