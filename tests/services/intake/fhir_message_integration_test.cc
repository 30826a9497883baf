// POST /fhir/$process-message against the real signpost-intake binary over HTTPS (a local CA made
// by tools/tls, as tools/run makes it), the run's Kafka and a real redis-server: a GP system's
// BaRS-shaped referral message, its resend, its cancellation, and what is refused; and the same
// message files on signpost.referral.submitted.
#include <httplib.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "services/intake/fhir_referral.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tests/support/kafka_redis_test.h"
#include "tests/support/service_process.h"
#include "tests/support/test_tokens.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

namespace signpost::intake {
namespace {

using nlohmann::json;
using signpost::testing::Referrer;
using signpost::testing::TestToken;
using ::testing::HasSubstr;

std::string DataFile(const std::string& name) {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/intake/data/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json& Resource(json& bundle, const std::string& type) {
  for (auto& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == type) return entry["resource"];
  }
  throw std::runtime_error("no " + type);
}

// A copy of a message file as another referral: its own Bundle.id and the sender's own id.
std::string AsReferral(const std::string& file, const std::string& source_referral_id) {
  json bundle = json::parse(DataFile(file));
  bundle["id"] = absl::StrCat("b-", source_referral_id);
  Resource(bundle, "ServiceRequest")["identifier"][0]["value"] = source_referral_id;
  return bundle.dump();
}

std::vector<std::string> ExpressionsOf(const json& outcome) {
  std::vector<std::string> out;
  for (const auto& issue : outcome["issue"]) {
    for (const auto& e : issue.value("expression", json::array())) out.push_back(e);
  }
  return out;
}

class FhirMessageIntegrationTest : public signpost::testing::KafkaRedisTest {
 protected:
  static void SetUpTestSuite() {
    tls_dir_ = new std::string(::testing::TempDir() + "/fhir-tls-" + std::to_string(getpid()));
    std::string make = std::string(SIGNPOST_SOURCE_DIR) + "/tools/tls make " + *tls_dir_;
    ASSERT_EQ(std::system(make.c_str()), 0);
  }
  static std::string TlsFile(const std::string& name) { return *tls_dir_ + "/" + name; }

  void SetUp() override {
    KafkaRedisTest::SetUp();
    if (HasFatalFailure()) return;
    intake_ = std::make_unique<signpost::testing::ServiceProcess>(
        signpost::testing::BinaryPath("signpost-intake"),
        std::vector<std::string>{"--kafka-bootstrap", env_.bootstrap, "--topic-prefix", env_.prefix,
                                 "--redis", redis_.address(), "--listen", "127.0.0.1:0",
                                 "--metrics-listen", "127.0.0.1:0", "--tls-cert",
                                 TlsFile("server.pem"), "--tls-key", TlsFile("server.key")},
        std::map<std::string, std::string>{
            {"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()}});
    ASSERT_TRUE(intake_->Start().ok()) << intake_->Logs();
    std::ifstream ca(TlsFile("ca.pem"));
    std::stringstream pem;
    pem << ca.rdbuf();
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = pem.str();
    stub_ = v1::IntakeService::NewStub(
        grpc::CreateChannel(intake_->address(), grpc::SslCredentials(options)));
  }
  void TearDown() override {
    if (HasFailure() && intake_) std::cerr << "intake log:\n" << intake_->Logs();
  }

  // POSTs `body` over HTTPS, the CA checked as a GP system's integration engine checks it.
  httplib::Result Post(const std::string& body, const std::string& token,
                       const std::string& content_type = "application/fhir+json") {
    httplib::SSLClient client("127.0.0.1", intake_->metrics_port());
    client.set_ca_cert_path(TlsFile("ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(60, 0);
    httplib::Headers headers{{"Accept", "application/fhir+json"}, {"X-Correlation-Id", "corr-1"}};
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Post("/fhir/$process-message", headers, body, content_type);
  }

  absl::StatusOr<v1::GetReferralResponse> GetReferral(const std::string& referral_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auth::AttachBearerToken(context, own_);
    v1::GetReferralRequest request;
    request.set_referral_id(referral_id);
    v1::GetReferralResponse response;
    grpc::Status status = stub_->GetReferral(&context, request, &response);
    if (!status.ok()) return absl::UnknownError(status.error_message());
    return response;
  }
  bool BecomesWithdrawn(const std::string& referral_id) {
    return signpost::testing::WaitUntil([&] {
      auto state = GetReferral(referral_id);
      return state.ok() && state->state() == v1::REFERRAL_STATE_WITHDRAWN;
    });
  }

  std::vector<v1::Event> ReceivedEvents() {
    std::vector<v1::Event> out;
    auto messages =
        signpost::testing::ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived));
    for (const auto& m : messages.value_or(std::vector<kafka::ConsumedMessage>{})) {
      auto e = events::ParseEvent(m);
      if (e.ok() && e->has_referral_received()) out.push_back(*e);
    }
    return out;
  }

  static std::string* tls_dir_;
  const std::string own_ = TestToken(Referrer({"B86001"}));
  const std::string other_ = TestToken(Referrer({"C81001"}));
  std::unique_ptr<signpost::testing::ServiceProcess> intake_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};
std::string* FhirMessageIntegrationTest::tls_dir_ = nullptr;

TEST_F(FhirMessageIntegrationTest, AReferralMessageIsAnsweredWithTheReferralAndItsResendIsTheSame) {
  const std::string message = DataFile("bars_referral_message.json");
  auto answer = Post(message, own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_THAT(answer->get_header_value("Content-Type"), HasSubstr("application/fhir+json"));
  EXPECT_EQ(answer->get_header_value("X-Correlation-Id"), "corr-1");
  json response = json::parse(answer->body);
  EXPECT_EQ(response["type"], "message");
  const json& header = response["entry"][0]["resource"];
  EXPECT_EQ(header["resourceType"], "MessageHeader");
  EXPECT_EQ(header["eventCoding"]["code"], "servicerequest-response");
  EXPECT_EQ(header["response"]["identifier"], "3f0c9a52-8d1e-4b7a-a6c4-2e5f1b9d7c80");
  EXPECT_EQ(header["response"]["code"], "ok");
  const json& service_request = response["entry"][1]["resource"];
  const std::string referral_id = service_request["id"];
  EXPECT_THAT(referral_id, ::testing::StartsWith("ref-"));
  EXPECT_EQ(service_request["identifier"][0]["value"], referral_id);
  EXPECT_EQ(service_request["identifier"][1]["value"], "EMIS-BARS-000456");
  EXPECT_EQ(response["entry"].size(), 2u);

  // The reply came after the broker had the referral.
  auto received = ReceivedEvents();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope().referral_id(), referral_id);
  EXPECT_EQ(received[0].referral_received().channel(), v1::SUBMISSION_CHANNEL_FHIR_HTTP);
  EXPECT_EQ(received[0].referral_received().referral().referrer().ods_code(), "B86001");

  // Sent again (a retry after a lost answer): the same referral, and the answer says so.
  auto again = Post(message, own_);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body;
  json second = json::parse(again->body);
  EXPECT_EQ(second["entry"][1]["resource"]["id"], referral_id);
  ASSERT_EQ(second["entry"].size(), 3u);
  EXPECT_EQ(second["entry"][2]["resource"]["issue"][0]["code"], "duplicate");
  EXPECT_EQ(ReceivedEvents().size(), 1u);

  auto state = GetReferral(referral_id);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state(), v1::REFERRAL_STATE_RECEIVED);

  // The sender's referral id again with other content: a conflict, not a second referral.
  json changed = json::parse(message);
  Resource(changed, "ServiceRequest")["note"][0]["text"] = "Prefers an afternoon call.";
  auto conflict = Post(changed.dump(), own_);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409) << conflict->body;
  EXPECT_EQ(json::parse(conflict->body)["issue"][0]["code"], "conflict");
  EXPECT_EQ(ReceivedEvents().size(), 1u);
}

TEST_F(FhirMessageIntegrationTest, ABadMessageGetsAnOperationOutcomeNamingEachElement) {
  // Invalid as gRPC finds it: the NHS number's check digit, a birth date in the future.
  json bad = json::parse(AsReferral("bars_referral_message.json", "EMIS-BAD-1"));
  Resource(bad, "Patient")["identifier"][0]["value"] = "9434765918";
  Resource(bad, "Patient")["birthDate"] = "2999-01-01";
  auto answer = Post(bad.dump(), own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 422) << answer->body;
  json outcome = json::parse(answer->body);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_THAT(ExpressionsOf(outcome),
              ::testing::UnorderedElementsAre(
                  "Bundle.entry[2].resource.ofType(Patient).identifier.where(system='https://"
                  "fhir.nhs.uk/Id/nhs-number').value",
                  "Bundle.entry[2].resource.ofType(Patient).birthDate"));
  for (const auto& issue : outcome["issue"]) {
    EXPECT_EQ(issue["severity"], "error");
    EXPECT_EQ(issue["details"]["coding"][0]["code"], "REC_UNPROCESSABLE_ENTITY");
  }
  EXPECT_THAT(outcome.dump(), HasSubstr("identity.nhs_number: "));
  EXPECT_THAT(outcome.dump(), HasSubstr("identity.date_of_birth: in the future"));

  // A need coded with a SNOMED CT concept Signpost does not map: the reasonCode is named.
  json unmapped = json::parse(AsReferral("bars_referral_message.json", "EMIS-BAD-2"));
  Resource(unmapped, "ServiceRequest")["reasonCode"][1]["coding"][0]["code"] = "38341003";
  answer = Post(unmapped.dump(), own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 422) << answer->body;
  EXPECT_THAT(
      ExpressionsOf(json::parse(answer->body)),
      ::testing::ElementsAre("Bundle.entry[1].resource.ofType(ServiceRequest).reasonCode[1]"));

  // Not a message at all: 400; not JSON: 400; XML: 415.
  json collection = json::parse(DataFile("bars_referral_message.json"));
  collection["type"] = "collection";
  answer = Post(collection.dump(), own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400) << answer->body;
  EXPECT_THAT(ExpressionsOf(json::parse(answer->body)), ::testing::ElementsAre("Bundle.type"));
  answer = Post("{ not json", own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400) << answer->body;
  EXPECT_EQ(json::parse(answer->body)["issue"][0]["details"]["coding"][0]["code"],
            "REC_BAD_REQUEST");
  answer = Post("<Bundle/>", own_, "application/fhir+xml");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 415) << answer->body;
  EXPECT_TRUE(ReceivedEvents().empty());
}

TEST_F(FhirMessageIntegrationTest, NoTokenIs401AndAnotherPracticesTokenIs403) {
  const std::string message = DataFile("bars_referral_message.json");
  auto answer = Post(message, "");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 401) << answer->body;
  EXPECT_THAT(answer->get_header_value("WWW-Authenticate"), HasSubstr("Bearer"));
  EXPECT_EQ(json::parse(answer->body)["issue"][0]["code"], "security");

  answer = Post(message, TestToken(Referrer({"B86001"}), -absl::Minutes(5)));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 401) << answer->body;
  EXPECT_THAT(answer->get_header_value("WWW-Authenticate"), HasSubstr("invalid_token"));

  answer = Post(message, other_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403) << answer->body;
  json outcome = json::parse(answer->body);
  EXPECT_EQ(outcome["issue"][0]["code"], "forbidden");
  EXPECT_EQ(outcome["issue"][0]["details"]["coding"][0]["code"], "REC_FORBIDDEN");

  answer = Post(message, TestToken(signpost::testing::LinkWorker("lw-1", "pcn-1")));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403) << answer->body;
  EXPECT_TRUE(ReceivedEvents().empty());
}

TEST_F(FhirMessageIntegrationTest, ACancellationWithdrawsTheReferralOnceAndIsRefusedAfter) {
  auto answer = Post(DataFile("bars_referral_message.json"), own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  const std::string referral_id = json::parse(answer->body)["entry"][1]["resource"]["id"];
  const std::string cancellation = DataFile("bars_cancellation_message.json");

  // Another practice cannot cancel it.
  answer = Post(cancellation, other_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403) << answer->body;

  answer = Post(cancellation, own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  json response = json::parse(answer->body);
  EXPECT_EQ(response["entry"][0]["resource"]["response"]["identifier"],
            "8a1e5c37-4b9d-4f02-b6e8-1c3a5e7f9b04");
  EXPECT_EQ(response["entry"][1]["resource"]["id"], referral_id);
  EXPECT_EQ(response["entry"][1]["resource"]["status"], "revoked");
  EXPECT_TRUE(BecomesWithdrawn(referral_id));

  // BaRS: a cancellation of a referral no longer active is refused.
  answer = Post(cancellation, own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 422) << answer->body;
  json outcome = json::parse(answer->body);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_THAT(outcome["issue"][0]["diagnostics"].get<std::string>(),
              HasSubstr("WITHDRAWN, no longer active"));

  // A cancellation of a referral never received: not found.
  answer = Post(AsReferral("bars_cancellation_message.json", "EMIS-NEVER-SENT"), own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 404) << answer->body;
}

TEST_F(FhirMessageIntegrationTest, TooBigIs413AndRedisDownIs503WithRetryAfter) {
  json big = json::parse(DataFile("bars_referral_message.json"));
  Resource(big, "ServiceRequest")["note"][0]["text"] = std::string(2 << 20, 'x');
  auto answer = Post(big.dump(), own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 413);

  redis_.Stop();
  answer = Post(DataFile("bars_referral_message.json"), own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503) << answer->body;
  EXPECT_FALSE(answer->get_header_value("Retry-After").empty());
  json outcome = json::parse(answer->body);
  EXPECT_EQ(outcome["issue"][0]["code"], "transient");
  EXPECT_EQ(outcome["issue"][0]["details"]["coding"][0]["code"], "REC_SERVICE_UNAVAILABLE");
  ASSERT_TRUE(redis_.Start().ok());
  // Redis back: the same message goes through (its sender retries as told).
  EXPECT_TRUE(signpost::testing::WaitUntil([&] {
    auto retried = Post(DataFile("bars_referral_message.json"), own_);
    return retried && retried->status == 200;
  }));
}

TEST_F(FhirMessageIntegrationTest, TheSameMessageFilesWorkOnKafka) {
  kafka::ProducerOptions options;
  options.bootstrap = env_.bootstrap;
  auto producer = kafka::KafkaProducer::Create(options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  const std::string topic = env_.Topic(kafka::Topic::kReferralSubmitted);
  const kafka::Headers fhir = {{"content-type", std::string(kFhirJsonContentType)}};
  ASSERT_TRUE((*producer)
                  ->Send({topic, "emis-leeds-north/EMIS-BARS-000456",
                          DataFile("bars_referral_message.json"), fhir})
                  .ok());
  std::vector<v1::Event> received;
  ASSERT_TRUE(signpost::testing::WaitUntil([&] {
    received = ReceivedEvents();
    return !received.empty();
  }));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].referral_received().channel(), v1::SUBMISSION_CHANNEL_KAFKA_FHIR);
  const std::string referral_id = received[0].envelope().referral_id();

  // The same message over HTTPS is the same referral.
  auto answer = Post(DataFile("bars_referral_message.json"), own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(json::parse(answer->body)["entry"][1]["resource"]["id"], referral_id);

  // And its cancellation on Kafka withdraws it.
  ASSERT_TRUE((*producer)
                  ->Send({topic, "emis-leeds-north/EMIS-BARS-000456",
                          DataFile("bars_cancellation_message.json"), fhir})
                  .ok());
  EXPECT_TRUE(BecomesWithdrawn(referral_id));
}

// The same message posted at once by several threads of an integration engine (resends racing):
// one referral, every answer names it, one received event.
TEST_F(FhirMessageIntegrationTest, TheSameMessagePostedConcurrentlyIsOneReferral) {
  const std::string message = AsReferral("bars_referral_message.json", "EMIS-RACE-1");
  constexpr int kPosts = 6;
  std::vector<std::string> ids(kPosts);
  std::vector<int> statuses(kPosts, 0);
  std::vector<std::thread> posts;
  for (int i = 0; i < kPosts; ++i) {
    posts.emplace_back([&, i] {
      auto answer = Post(message, own_);
      statuses[i] = answer ? answer->status : -1;
      if (answer && answer->status == 200) {
        ids[i] = json::parse(answer->body)["entry"][1]["resource"]["id"];
      }
    });
  }
  for (auto& t : posts) t.join();
  for (int i = 0; i < kPosts; ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(ids[i], ids[0]) << i;
  }
  EXPECT_EQ(ReceivedEvents().size(), 1u);
}

// Submissions that wait (Redis stalled: each waits on the store until its time runs out) do not
// take every thread of the listener: meanwhile /healthz and /metrics still answer (a probe that
// waited behind them would have the process restarted), and each submission is answered, 503
// with an OperationOutcome and Retry-After, never left without an answer.
TEST_F(FhirMessageIntegrationTest, StalledSubmissionsLeaveTheProbesAnswering) {
  ASSERT_EQ(Post(AsReferral("bars_referral_message.json", "EMIS-WARM-1"), own_)->status, 200);
  redis_.Suspend();
  constexpr int kPosts = 40;
  std::vector<int> statuses(kPosts, 0);
  std::vector<std::string> bodies(kPosts);
  std::vector<std::string> retry_after(kPosts);
  std::vector<std::thread> posts;
  for (int i = 0; i < kPosts; ++i) {
    posts.emplace_back([&, i] {
      auto answer =
          Post(AsReferral("bars_referral_message.json", absl::StrCat("EMIS-STALL-", i)), own_);
      statuses[i] = answer ? answer->status : -1;
      if (answer) {
        bodies[i] = answer->body;
        retry_after[i] = answer->get_header_value("Retry-After");
      }
    });
  }
  // The posts have been sent (they wait on the stalled store) before the probes ask.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (const char* probe : {"/healthz", "/metrics"}) {
    httplib::SSLClient client("127.0.0.1", intake_->metrics_port());
    client.set_ca_cert_path(TlsFile("ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    // Far longer than a probe's usual 1 s, far shorter than the posts keep their threads.
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(5, 0);
    client.set_write_timeout(5, 0);
    auto answer = client.Get(probe);
    EXPECT_TRUE(answer) << probe << ": no answer while submissions wait ("
                        << httplib::to_string(answer.error()) << ")";
    if (answer) EXPECT_EQ(answer->status, 200) << probe;
  }
  redis_.Resume();
  for (auto& t : posts) t.join();
  for (int i = 0; i < kPosts; ++i) {
    ASSERT_TRUE(statuses[i] == 200 || statuses[i] == 503) << i << ": " << statuses[i];
    if (statuses[i] == 503) {
      EXPECT_FALSE(retry_after[i].empty()) << i;
      json outcome = json::parse(bodies[i]);
      EXPECT_EQ(outcome["resourceType"], "OperationOutcome") << i;
      EXPECT_EQ(outcome["issue"][0]["code"], "transient") << i;
    }
  }
}

// Hostile shapes under the size limit: each is refused with an OperationOutcome (4xx, a bounded
// number of issues), never a crash or a 5xx, and intake goes on answering.
TEST_F(FhirMessageIntegrationTest, HostileMessagesGetASpecificOperationOutcome) {
  const json base = json::parse(AsReferral("bars_referral_message.json", "EMIS-HOSTILE-1"));
  std::vector<std::pair<std::string, std::string>> cases;
  {
    json m = base;
    json reasons = json::array();
    for (int i = 0; i < 10000; ++i) reasons.push_back({{"text", "x"}});
    Resource(m, "ServiceRequest")["reasonCode"] = reasons;
    cases.emplace_back("10,000 needs", m.dump());
  }
  {
    json m = base;
    for (int i = 0; i < 10000; ++i) {
      m["entry"].push_back({{"resource", {{"resourceType", "Patient"}}}});
    }
    cases.emplace_back("10,000 Patients", m.dump());
  }
  {
    json m = base;
    std::swap(m["entry"][0], m["entry"][1]);
    cases.emplace_back("MessageHeader not first", m.dump());
  }
  {
    std::string m = base.dump();
    m.replace(m.find("EMIS-HOSTILE-1"), 3, "\xff\xfe\xc3");
    cases.emplace_back("not UTF-8", m);
  }
  cases.emplace_back("deep", std::string(100000, '[') + std::string(100000, ']'));
  cases.emplace_back("a bare string", "\"Bundle\"");
  for (const auto& [name, body] : cases) {
    ASSERT_LT(body.size(), 1u << 20) << name;
    auto answer = Post(body, own_);
    ASSERT_TRUE(answer) << name << ": " << httplib::to_string(answer.error());
    EXPECT_GE(answer->status, 400) << name;
    EXPECT_LT(answer->status, 500) << name << ": " << answer->body.substr(0, 500);
    json outcome = json::parse(answer->body, nullptr, false);
    ASSERT_FALSE(outcome.is_discarded()) << name;
    EXPECT_EQ(outcome["resourceType"], "OperationOutcome") << name;
    EXPECT_LE(outcome["issue"].size(), 100u) << name;
  }
  auto fine = Post(base.dump(), own_);
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200) << fine->body;
}

// Two Consents to the referral that disagree (a refusal recorded, then a consent): which one
// holds cannot be read from the message, so it is refused naming the Consents, not filed as
// consented because the consent happened to come last.
TEST_F(FhirMessageIntegrationTest, ContradictoryReferralConsentsAreRefused) {
  json m = json::parse(AsReferral("bars_referral_message.json", "EMIS-CONSENTS-1"));
  json refusal;
  for (const auto& entry : m["entry"]) {
    const json& r = entry["resource"];
    if (r["resourceType"] == "Consent" && r["category"][0]["coding"][0]["code"] == "59284-0") {
      refusal = entry;
    }
  }
  ASSERT_FALSE(refusal.is_null());
  refusal["fullUrl"] = "urn:uuid:0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
  refusal["resource"]["id"] = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
  refusal["resource"]["provision"]["type"] = "deny";
  refusal["resource"]["policyRule"]["coding"][0]["code"] = "OPTOUT";
  m["entry"].insert(m["entry"].begin() + 1, refusal);
  auto answer = Post(m.dump(), own_);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 422) << answer->body;
  EXPECT_THAT(answer->body, HasSubstr("Consent"));
  EXPECT_TRUE(ReceivedEvents().empty());
}

// What the response message echoes from the request must make a valid response: a message
// without a usable Bundle.id (MessageHeader.response.identifier, 1..1) or with an intent that is
// no R4 code is refused naming the element, not answered with an invalid response message.
TEST_F(FhirMessageIntegrationTest, AMessageTheResponseCannotEchoIsRefusedNamingTheElement) {
  const json base = json::parse(AsReferral("bars_referral_message.json", "EMIS-ECHO-1"));
  json no_id = base;
  no_id.erase("id");
  json bad_id = base;
  bad_id["id"] = "not an id!";
  json bad_intent = base;
  Resource(bad_intent, "ServiceRequest")["intent"] = "banana";
  for (const auto& [m, element] : std::vector<std::pair<json, std::string>>{
           {no_id, "Bundle.id"}, {bad_id, "Bundle.id"}, {bad_intent, ".intent"}}) {
    auto answer = Post(m.dump(), own_);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 422) << element << ": " << answer->body.substr(0, 400);
    EXPECT_THAT(answer->body, HasSubstr(element));
  }
  EXPECT_TRUE(ReceivedEvents().empty());

  // The sender's identifier is said back as system and value, not with whatever else it held.
  json extra = base;
  Resource(extra, "ServiceRequest")["identifier"][0]["planted"] = {{"nested", "not FHIR"}};
  auto answer = Post(extra.dump(), own_);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_THAT(answer->body, ::testing::Not(HasSubstr("planted")));
  EXPECT_EQ(json::parse(answer->body)["entry"][1]["resource"]["identifier"][1]["value"],
            "EMIS-ECHO-1");
}

}  // namespace
}  // namespace signpost::intake
