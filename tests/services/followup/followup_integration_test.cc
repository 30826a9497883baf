// signpost-followup as processes against the real broker (ctest fixture) and a real redis-server
// with an append-only file; the clock is moved through --clock-offset-file.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/call_authenticator.h"
#include "common/config/address.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/redis/redis_pool.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/followup/feedback_fhir_message.h"
#include "signpost/v1/directory_service.grpc.pb.h"
#include "signpost/v1/followup_service.grpc.pb.h"
#include "tests/support/kafka_env.h"
#include "tests/support/parked_calls.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/service_process.h"
#include "tests/support/test_data_keys.h"
#include "tests/support/test_tokens.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

namespace signpost::followup {
namespace {

using signpost::testing::ReadTopic;
using signpost::testing::ServiceProcess;
using signpost::testing::WaitUntil;
using ::testing::ElementsAre;

constexpr char kName[] = "Amira";
constexpr char kNhsNumber[] = "9434765919";

// A link-worker app's subscription: every update received, in order.
class Subscription {
 public:
  Subscription(v1::FollowUpService::Stub& stub, const std::string& queue,
               const std::string& token = "") {
    v1::SubscribeTasksRequest request;
    request.set_link_worker_id(queue);
    request.set_resume_token(token);
    reader_ = stub.SubscribeTasks(&context_, request);
    thread_ = std::thread([this] {
      v1::TaskUpdate update;
      while (reader_->Read(&update)) {
        absl::MutexLock lock(&mu_);
        updates_.push_back(update);
      }
      absl::MutexLock lock(&mu_);
      status_ = FromGrpcStatus(reader_->Finish());
      ended_ = true;
    });
  }
  ~Subscription() { Close(); }

  void Close() {
    if (!thread_.joinable()) return;
    context_.TryCancel();
    thread_.join();
  }

  std::vector<v1::TaskUpdate> Updates() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }
  // Task ids of the non-snapshot updates, in order.
  std::vector<std::string> LiveTaskIds() {
    std::vector<std::string> ids;
    for (const auto& u : Updates()) {
      if (!u.snapshot() && u.has_task()) ids.push_back(u.task().id());
    }
    return ids;
  }
  std::string LastToken() {
    std::string token;
    for (const auto& u : Updates()) {
      if (!u.resume_token().empty()) token = u.resume_token();
    }
    return token;
  }
  absl::Status Ended() {
    absl::MutexLock lock(&mu_);
    return ended_ ? status_ : absl::OkStatus();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::TaskUpdate>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::TaskUpdate> updates_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

class FollowUpIntegrationTest : public ::testing::Test {
 protected:
  FollowUpIntegrationTest() : redis_(/*append_only=*/true) {}

  void SetUp() override {
    auto env = signpost::testing::MakeKafkaEnv();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *env;
    ASSERT_TRUE(redis_.Start().ok());
    clock_file_ = redis_.dir() + "/clock-offset";
    SetClockOffset(absl::ZeroDuration());
    kafka::ProducerOptions options;
    options.bootstrap = env_.bootstrap;
    producer_ = *kafka::KafkaProducer::Create(options);
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (auto& f : followups_) std::cerr << "followup log:\n" << f->Logs();
    if (matching_) std::cerr << "matching log:\n" << matching_->Logs();
  }

  void SetClockOffset(absl::Duration offset) {
    std::ofstream(clock_file_) << absl::ToInt64Seconds(offset) << "\n";
  }

  ServiceProcess& StartFollowUp(const std::string& directory = "",
                                std::map<std::string, std::string> env = {},
                                std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--kafka-bootstrap",
                                     env_.bootstrap,
                                     "--topic-prefix",
                                     env_.prefix,
                                     "--redis",
                                     redis_.address(),
                                     "--metrics-listen",
                                     "127.0.0.1:0",
                                     "--clock-offset-file",
                                     clock_file_,
                                     "--scheduler-interval-ms",
                                     "100",
                                     "--time-zone",
                                     "UTC",
                                     "--instance-id",
                                     absl::StrCat("fu-", followups_.size())};
    if (!directory.empty()) args.insert(args.end(), {"--directory", directory});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    followups_.push_back(std::make_unique<ServiceProcess>(
        signpost::testing::BinaryPath("signpost-followup"), args, std::move(env)));
    EXPECT_TRUE(followups_.back()->Start().ok());
    stubs_.push_back(v1::FollowUpService::NewStub(
        grpc::CreateChannel(followups_.back()->address(), grpc::InsecureChannelCredentials())));
    return *followups_.back();
  }
  v1::FollowUpService::Stub& Stub(size_t i = 0) { return *stubs_[i]; }

  // signpost-matching on the same broker and Redis, for follow-up's place reservations.
  v1::DirectoryService::Stub& StartMatching(std::map<std::string, std::string> env = {}) {
    matching_ = std::make_unique<ServiceProcess>(
        signpost::testing::BinaryPath("signpost-matching"),
        std::vector<std::string>{"--kafka-bootstrap", env_.bootstrap, "--topic-prefix", env_.prefix,
                                 "--redis", redis_.address(), "--metrics-listen", "127.0.0.1:0"},
        std::move(env));
    EXPECT_TRUE(matching_->Start().ok());
    directory_ = v1::DirectoryService::NewStub(
        grpc::CreateChannel(matching_->address(), grpc::InsecureChannelCredentials()));
    return *directory_;
  }

  // The one resource the matched events offer: walk-1, with 10 places.
  static v1::UpsertResourceRequest WalkingGroup(int places_available) {
    v1::UpsertResourceRequest request;
    v1::Resource* r = request.mutable_resource();
    r->set_id("walk-1");
    r->set_name("Headingley Walking Group");
    r->set_status(v1::RESOURCE_STATUS_ACTIVE);
    r->add_need_categories(v1::NEED_CATEGORY_LONELINESS);
    r->add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    auto* loc = r->add_locations();
    loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
    loc->mutable_point()->set_latitude(53.817);
    loc->mutable_point()->set_longitude(-1.565);
    r->mutable_capacity()->set_places_total(10);
    r->mutable_capacity()->set_places_available(places_available);
    return request;
  }

  // As intake and matching leave it: identity and notes sealed with `keys`.
  void PublishSealedMatched(const std::string& rid, const std::string& worker,
                            const crypto::DataKeyring& keys, bool tamper = false) {
    sealing_ = &keys;
    tamper_ = tamper;
    PublishMatched(rid, worker);
    sealing_ = nullptr;
    tamper_ = false;
  }

  void PublishMatched(const std::string& rid, const std::string& worker,
                      v1::Urgency priority = v1::URGENCY_ROUTINE,
                      const std::function<void(v1::ReferralMatched&)>& adjust = nullptr) {
    v1::Event e;
    auto* m = e.mutable_referral_matched();
    auto* r = m->mutable_referral();
    r->set_source_system("emis-test");
    r->set_source_referral_id("src-" + rid);
    r->mutable_referrer()->set_ods_code("B86001");
    r->mutable_identity()->set_given_name(kName);
    r->mutable_identity()->set_nhs_number(kNhsNumber);
    r->mutable_profile()->set_age_years(71);
    r->mutable_consent()->set_referral_consent(true);
    r->mutable_consent()->set_sharing_consent(true);
    auto* need = m->add_needs();
    need->mutable_need()->set_category(v1::NEED_CATEGORY_LONELINESS);
    auto* option = need->add_options();
    option->set_resource_id("walk-1");
    option->set_resource_name("Headingley Walking Group");
    m->set_link_worker_id(worker);
    m->set_network_id("pcn-leeds-west");
    m->set_priority(priority);
    if (adjust) adjust(*m);
    if (sealing_ != nullptr) {
      r->set_notes("Prefers a call after 10am.");
      ASSERT_TRUE(crypto::PersonalDetailsCipher(*sealing_).Seal(*r, rid).ok());
      if (tamper_) (*r->mutable_sealed()->mutable_ciphertext())[0] ^= 1;
    }
    events::Seal(e, rid, "test", absl::Now());
    ASSERT_TRUE(
        producer_->Send(events::ToMessage(e, env_.Topic(kafka::Topic::kReferralMatched), rid))
            .ok());
  }

  void PublishWithdrawn(const std::string& rid) {
    v1::Event e;
    auto* w = e.mutable_referral_withdrawn();
    w->set_reason(v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
    w->set_purge_personal_data(true);
    w->set_referrer_ods_code("B86001");
    events::Seal(e, rid, "test", absl::Now());
    ASSERT_TRUE(
        producer_->Send(events::ToMessage(e, env_.Topic(kafka::Topic::kReferralReceived), rid))
            .ok());
  }

  std::vector<v1::Task> Tasks(const std::string& queue, size_t instance = 0) {
    grpc::ClientContext context;
    v1::ListTasksRequest request;
    request.set_link_worker_id(queue);
    v1::ListTasksResponse response;
    grpc::Status s = Stub(instance).ListTasks(&context, request, &response);
    if (!s.ok()) return {};
    return {response.tasks().begin(), response.tasks().end()};
  }
  bool HasOpenTask(const std::string& queue, const std::string& task_id) {
    for (const auto& t : Tasks(queue)) {
      if (t.id() == task_id) return true;
    }
    return false;
  }

  absl::StatusOr<v1::Case> GetCase(const std::string& queue, const std::string& rid,
                                   const std::string& purpose = "") {
    grpc::ClientContext context;
    v1::GetCaseRequest request;
    request.set_link_worker_id(queue);
    request.set_referral_id(rid);
    request.set_purpose(purpose);
    v1::Case response;
    grpc::Status s = Stub().GetCase(&context, request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
    return response;
  }

  std::vector<v1::Event> On(kafka::Topic topic, const std::string& rid) {
    std::vector<v1::Event> out;
    for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(topic))
                             .value_or(std::vector<kafka::ConsumedMessage>{})) {
      auto e = events::ParseEvent(m);
      if (e.ok() && e->envelope().referral_id() == rid) out.push_back(*e);
    }
    return out;
  }

  // The case record as Redis holds it (fu:case:<rid>, field b).
  std::optional<v1::Case> RawCase(const std::string& rid) {
    auto pool = signpost::testing::PoolFor(redis_);
    if (!pool) return std::nullopt;
    auto reply = pool->Execute({"HGET", absl::StrCat("fu:case:", rid), "b"});
    v1::Case kase;
    if (!reply.ok() || reply->is_nil() || !kase.ParseFromString(reply->str)) return std::nullopt;
    return kase;
  }

  // What Redis holds on disk, byte for byte: its AOF as written, and a snapshot SAVEd now without
  // compression (LZF would hide a value in clear from a search).
  std::string RedisFiles() {
    auto pool = signpost::testing::PoolFor(redis_);
    EXPECT_TRUE(pool);
    if (!pool) return "";
    EXPECT_TRUE(pool->Execute({"CONFIG", "SET", "rdbcompression", "no"}).ok());
    EXPECT_TRUE(pool->Execute({"SAVE"}).ok());
    std::string bytes;
    auto read = [&](const std::filesystem::path& path) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      bytes += content.str();
    };
    for (const auto& entry : std::filesystem::directory_iterator(redis_.dir() + "/appendonlydir")) {
      read(entry.path());
    }
    EXPECT_TRUE(std::filesystem::exists(redis_.dir() + "/dump.rdb"));
    read(redis_.dir() + "/dump.rdb");
    return bytes;
  }

  // A keyring file: the tests' keyring with a new first key `id` (it seals; the old one opens),
  // or, `without_old`, that same new key alone.
  std::string RotatedKeysFile(const std::string& id, bool without_old = false) {
    std::string& rotated_text = rotated_[id];
    if (rotated_text.empty()) {
      std::ifstream in(signpost::testing::TestDataKeysPath());
      std::stringstream text;
      text << in.rdbuf();
      rotated_text = *crypto::RotateKeyringText(text.str(), id);
    }
    std::string rotated = rotated_text;
    if (without_old) {
      std::string old_id = signpost::testing::TestDataKeys().current().id;
      std::stringstream kept;
      std::istringstream lines(rotated);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind(absl::StrCat("data-key ", old_id, " "), 0) != 0) kept << line << "\n";
      }
      rotated = kept.str();
    }
    std::string path = absl::StrCat(redis_.dir(), "/keys-", id, without_old ? "-alone" : "");
    std::ofstream(path) << rotated;
    return path;
  }

  // Restarts the one follow-up with `env` (its stub with it).
  void RestartFollowUp(std::map<std::string, std::string> env) {
    EXPECT_EQ(followups_[0]->Stop(), 0);
    StartFollowUp("", std::move(env));
    stubs_.erase(stubs_.begin());
    followups_.erase(followups_.begin());
  }

  absl::Status RecordReached(const std::string& rid) {
    grpc::ClientContext context;
    v1::RecordContactRequest contact;
    contact.set_link_worker_id("lw-1");
    contact.set_referral_id(rid);
    contact.set_result(v1::CONTACT_RESULT_NO_ANSWER);
    v1::Case after;
    return FromGrpcStatus(Stub().RecordContact(&context, contact, &after));
  }

  std::vector<v1::FeedbackKind> FeedbackKinds(const std::string& rid) {
    std::vector<v1::FeedbackKind> kinds;
    for (const auto& e : On(kafka::Topic::kReferrerFeedback, rid)) {
      kinds.push_back(e.referrer_feedback().kind());
    }
    return kinds;
  }

  signpost::testing::KafkaEnv env_;
  signpost::testing::RedisServer redis_;
  std::string clock_file_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  std::vector<std::unique_ptr<ServiceProcess>> followups_;
  std::vector<std::unique_ptr<v1::FollowUpService::Stub>> stubs_;
  std::unique_ptr<ServiceProcess> matching_;
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  const crypto::DataKeyring* sealing_ = nullptr;
  bool tamper_ = false;
  std::map<std::string, std::string> rotated_;  // keyring text by its new key's id
};

TEST_F(FollowUpIntegrationTest, AMatchPutsAFirstContactTaskOnTheStreamAndResumingMissesNothing) {
  StartFollowUp();
  auto live = std::make_unique<Subscription>(Stub(), "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return !live->LastToken().empty(); })) << "snapshot end";
  PublishMatched("r1", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return live->LiveTaskIds().size() == 1; }));
  EXPECT_THAT(live->LiveTaskIds(), ElementsAre("r1/first-contact"));
  std::string token = live->LastToken();
  live->Close();

  // While the app is away: two more for lw-1, one for lw-2.
  PublishMatched("r2", "lw-1");
  PublishMatched("r3", "lw-1");
  PublishMatched("r4", "lw-2");
  ASSERT_TRUE(WaitUntil([&] { return Tasks("lw-1").size() == 3 && Tasks("lw-2").size() == 1; }));

  Subscription resumed(Stub(), "lw-1", token);
  ASSERT_TRUE(WaitUntil([&] { return resumed.LiveTaskIds().size() >= 2; }));
  absl::SleepFor(absl::Seconds(1));  // anything extra would have arrived by now
  EXPECT_THAT(resumed.LiveTaskIds(), ElementsAre("r2/first-contact", "r3/first-contact"));
  for (const auto& u : resumed.Updates()) EXPECT_FALSE(u.snapshot());

  // A new subscription starts from the open tasks.
  Subscription fresh(Stub(), "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return !fresh.LastToken().empty(); }));
  int snapshot = 0;
  for (const auto& u : fresh.Updates()) snapshot += u.snapshot();
  EXPECT_EQ(snapshot, 3);

  // Each worker sees only their own.
  ASSERT_EQ(Tasks("lw-2").size(), 1u);
  EXPECT_EQ(Tasks("lw-2")[0].referral_id(), "r4");
  EXPECT_EQ(GetCase("lw-2", "r1").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(GetCase("lw-1", "r1").ok());
  grpc::ClientContext context;
  v1::CompleteTaskRequest steal;
  steal.set_link_worker_id("lw-2");
  steal.set_task_id("r1/first-contact");
  v1::Task ignored;
  EXPECT_EQ(Stub().CompleteTask(&context, steal, &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A token from nowhere is refused with the field named.
  Subscription bogus(Stub(), "lw-1", "99999999999999-0");
  ASSERT_TRUE(WaitUntil([&] { return !bogus.Ended().ok(); }));
  EXPECT_EQ(bogus.Ended().code(), absl::StatusCode::kInvalidArgument);
}

// The feed keeps a bounded number of updates per queue (--feed-max-length, trimmed by length). An
// app resuming from a token the feed no longer holds gets the queue's open tasks again as a
// snapshot (the restart marker), never only what survived the trim.
TEST_F(FollowUpIntegrationTest, ResumingFromATokenTheFeedNoLongerHoldsSendsEveryOpenTaskAgain) {
  StartFollowUp("", {}, {"--feed-max-length", "100"});
  PublishMatched("r0", "lw-1");
  ASSERT_TRUE(
      WaitUntil([&] { return HasOpenTask("lw-1", "r0/first-contact"); }, absl::Seconds(120)));
  std::string token;
  {
    Subscription first(Stub(), "lw-1");
    ASSERT_TRUE(WaitUntil([&] { return !first.LastToken().empty(); }));
    token = first.LastToken();
  }
  // While the app is away, three times what the feed keeps.
  constexpr int kAway = 300;
  for (int i = 1; i <= kAway; ++i) PublishMatched(absl::StrCat("r", i), "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return Tasks("lw-1").size() == kAway + 1; }, absl::Seconds(120)));
  redis::PoolOptions options;
  options.address = *ParseRedisAddress(redis_.address());
  auto pool = redis::RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  auto length = (*pool)->Execute({"XLEN", "fu:feed:lw-1"});
  ASSERT_TRUE(length.ok());
  ASSERT_LT(length->integer, kAway) << "the feed was not trimmed: the test shows nothing";

  Subscription resumed(Stub(), "lw-1", token);
  auto received = [&] {
    std::set<std::string> ids;
    for (const auto& u : resumed.Updates()) {
      if (u.has_task()) ids.insert(u.task().id());
    }
    return ids;
  };
  ASSERT_TRUE(WaitUntil([&] { return received().size() >= kAway; }))
      << "received " << received().size() << " of " << kAway << " tasks added while away";
  for (int i = 1; i <= kAway; ++i) {
    EXPECT_TRUE(received().contains(absl::StrCat("r", i, "/first-contact"))) << i;
  }
  // Marked as a restart: the app replaces its list instead of adding to it.
  ASSERT_TRUE(WaitUntil([&] { return !resumed.LastToken().empty(); }));
  bool snapshot_end = false;
  for (const auto& u : resumed.Updates()) snapshot_end |= u.snapshot_end();
  EXPECT_TRUE(snapshot_end);
  EXPECT_TRUE(resumed.Ended().ok()) << resumed.Ended();
}

TEST_F(FollowUpIntegrationTest, SealedDetailsOpenForTheCaseAndEveryDeliveryIsAudited) {
  StartFollowUp();
  const crypto::DataKeyring keys = signpost::testing::TestDataKeys();
  PublishSealedMatched("r1", "lw-1", keys);
  absl::StatusOr<v1::Case> kase;
  ASSERT_TRUE(WaitUntil([&] { return (kase = GetCase("lw-1", "r1")).ok(); }));
  EXPECT_EQ(kase->identity().given_name(), kName);
  EXPECT_EQ(kase->identity().nhs_number(), kNhsNumber);
  EXPECT_EQ(kase->referral_notes(), "Prefers a call after 10am.");
  ASSERT_TRUE(GetCase("lw-1", "r1", "first contact call").ok());
  EXPECT_EQ(GetCase("lw-2", "r1").status().code(), absl::StatusCode::kPermissionDenied);

  // Two deliveries, two records: who, what, why; never a value.
  std::vector<v1::Event> audit;
  ASSERT_TRUE(
      WaitUntil([&] { return (audit = On(kafka::Topic::kAuditAccess, "r1")).size() >= 2; }));
  ASSERT_EQ(audit.size(), 2u);
  for (const auto& e : audit) {
    const auto& a = e.personal_data_access();
    EXPECT_EQ(a.actor(), "lw-1");
    EXPECT_EQ(a.rpc(), "signpost.v1.FollowUpService/GetCase");
    EXPECT_THAT(a.fields(),
                ElementsAre("identity.nhs_number", "identity.given_name", "referral_notes"));
    EXPECT_EQ(e.SerializeAsString().find(kNhsNumber), std::string::npos);
  }
  EXPECT_EQ(audit[0].personal_data_access().purpose(), "case work");
  // A purpose is a label, not a note: a long one is refused, naming the field, and not recorded.
  auto long_purpose = GetCase("lw-1", "r1", std::string(101, 'x'));
  EXPECT_EQ(long_purpose.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolationsOf(long_purpose.status()).at(0).field, "purpose");
  EXPECT_EQ(audit[1].personal_data_access().purpose(), "first contact call");

  // An action's answer carries no identity, so it needs no record.
  grpc::ClientContext context;
  v1::RecordContactRequest contact;
  contact.set_link_worker_id("lw-1");
  contact.set_referral_id("r1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  v1::Case after;
  ASSERT_TRUE(Stub().RecordContact(&context, contact, &after).ok());
  EXPECT_EQ(after.referral_id(), "r1");
  EXPECT_FALSE(after.has_identity());
  EXPECT_TRUE(after.referral_notes().empty());
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(On(kafka::Topic::kAuditAccess, "r1").size(), 2u);

  // Details sealed with a key follow-up does not hold yet (intake rotated first) wait, and are
  // not set aside; given the keyring, follow-up opens the case.
  std::string rotated_text = *crypto::RotateKeyringText(
      [] {
        std::ifstream in(signpost::testing::TestDataKeysPath());
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
      }(),
      "rotated");
  auto rotated = crypto::DataKeyring::Parse(rotated_text);
  ASSERT_TRUE(rotated.ok());
  PublishSealedMatched("r9", "lw-1", *rotated);
  ASSERT_TRUE(WaitUntil(
      [&] { return followups_[0]->Logs().find("data key 'rotated'") != std::string::npos; }));
  EXPECT_EQ(GetCase("lw-1", "r9").status().code(), absl::StatusCode::kNotFound);
  for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kDeadletter))
                           .value_or(std::vector<kafka::ConsumedMessage>{})) {
    EXPECT_NE(m.key, "r9") << "set aside instead of waiting";
  }
  std::string keys_file = redis_.dir() + "/rotated-keys";
  std::ofstream(keys_file) << rotated_text;
  EXPECT_EQ(followups_[0]->Stop(), 0);
  StartFollowUp("", {{"SIGNPOST_DATA_KEYS", keys_file}});
  stubs_.erase(stubs_.begin());
  followups_.erase(followups_.begin());
  absl::StatusOr<v1::Case> opened;
  ASSERT_TRUE(WaitUntil([&] { return (opened = GetCase("lw-1", "r9")).ok(); }, absl::Seconds(60)));
  EXPECT_EQ(opened->identity().nhs_number(), kNhsNumber);

  // Details that do not authenticate never will: they go to the dead-letter topic with the
  // reason, and no case is opened with them.
  PublishSealedMatched("r10", "lw-1", keys, /*tamper=*/true);
  std::string reason;
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kDeadletter))
                             .value_or(std::vector<kafka::ConsumedMessage>{})) {
      if (m.key != "r10") continue;
      for (const auto& h : m.headers) {
        if (h.key == kafka::kHeaderDeadLetterReason) reason = h.value;
      }
    }
    return !reason.empty();
  }));
  EXPECT_EQ(reason,
            "sealed personal details do not authenticate for this referral (altered, or moved "
            "from another one)");
  EXPECT_EQ(GetCase("lw-1", "r10").status().code(), absl::StatusCode::kNotFound);
}

// Follow-up and matching with token keys: the token says which queue a caller works, a case
// outside it is refused without a word of what it holds, and the place a link worker takes at the
// directory is taken with their own token.
TEST_F(FollowUpIntegrationTest, TokensDecideWhoSeesAndActsOnWhichCase) {
  using signpost::testing::TestToken;
  const std::map<std::string, std::string> with_tokens = {
      {"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()}};
  auto& directory = StartMatching(with_tokens);
  auto upsert = [&](const std::string& token) {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::Resource response;
    return directory.UpsertResource(&context, WalkingGroup(/*places_available=*/3), &response);
  };
  EXPECT_EQ(upsert("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(upsert(TestToken(signpost::testing::LinkWorker("lw-1", "pcn-leeds-west"))).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status upserted = upsert(TestToken(signpost::testing::DirectoryAdmin()));
  ASSERT_TRUE(upserted.ok()) << upserted.error_message();

  StartFollowUp(matching_->address(), with_tokens);
  // As matching records its choice and its match when it matches r1 (the test publishes the
  // match itself): the assignment, and the matched event with the options offered.
  {
    redis::PoolOptions options;
    options.address = *ParseRedisAddress(redis_.address());
    auto redis = redis::RedisPool::Create(options);
    ASSERT_TRUE(redis.ok());
    ASSERT_TRUE((*redis)->Execute({"SET", "signpost:roster:assignment:r1", "lw-1"}).ok());
    v1::Event recorded;
    auto* match = recorded.mutable_referral_matched();
    match->set_link_worker_id("lw-1");
    match->set_network_id("pcn-leeds-west");
    match->add_needs()->add_options()->set_resource_id("walk-1");
    ASSERT_TRUE((*redis)
                    ->Execute({"RPUSH", "signpost:roster:match:r1", recorded.SerializeAsString()})
                    .ok());
  }
  PublishSealedMatched("r1", "lw-1", signpost::testing::TestDataKeys());
  const std::string lw1 = TestToken(signpost::testing::LinkWorker("lw-1", "pcn-leeds-west"));
  const std::string lw2 = TestToken(signpost::testing::LinkWorker("lw-2", "pcn-leeds-west"));
  auto list = [&](const std::string& token, const std::string& queue,
                  std::vector<v1::Task>* tasks = nullptr) {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::ListTasksRequest request;
    request.set_link_worker_id(queue);
    v1::ListTasksResponse response;
    grpc::Status s = Stub().ListTasks(&context, request, &response);
    if (tasks != nullptr) tasks->assign(response.tasks().begin(), response.tasks().end());
    return s;
  };
  std::vector<v1::Task> tasks;
  // The link worker's own queue, without naming it.
  ASSERT_TRUE(WaitUntil([&] { return list(lw1, "", &tasks).ok() && tasks.size() == 1; }));
  EXPECT_EQ(tasks[0].referral_id(), "r1");
  EXPECT_EQ(list("", "lw-1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      list(TestToken(signpost::testing::LinkWorker("lw-1", "pcn-leeds-west"), -absl::Minutes(5)),
           "lw-1")
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list(lw2, "lw-1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(list(TestToken(signpost::testing::Referrer({"B86001"})), "lw-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(list(TestToken(signpost::testing::Ops()), "lw-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(list(TestToken(signpost::testing::Coordinator("pcn-leeds-west")), "", &tasks).ok());
  EXPECT_TRUE(tasks.empty());  // the case is lw-1's, not the team queue's

  auto get_case = [&](const std::string& token, v1::Case* out) {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::GetCaseRequest request;
    request.set_referral_id("r1");
    request.set_purpose("first contact call");
    return Stub().GetCase(&context, request, out);
  };
  v1::Case kase;
  grpc::Status denied = get_case(lw2, &kase);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message().find(kName), std::string::npos);
  EXPECT_FALSE(kase.has_identity());
  ASSERT_TRUE(get_case(lw1, &kase).ok());
  EXPECT_EQ(kase.identity().given_name(), kName);
  // The audit record names who the token said, not only the queue.
  std::vector<v1::Event> audit;
  ASSERT_TRUE(WaitUntil([&] { return !(audit = On(kafka::Topic::kAuditAccess, "r1")).empty(); }));
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].personal_data_access().subject(), "lw-1");
  EXPECT_EQ(audit[0].personal_data_access().role(), "link_worker");

  // A whole connection on lw-1's token: follow-up takes the place at the directory with it.
  auto act = [&](auto method, auto request, const std::string& token) -> grpc::Status {
    grpc::ClientContext context;
    auth::AttachBearerToken(context, token);
    v1::Case response;
    request.set_referral_id("r1");
    return (Stub().*method)(&context, request, &response);
  };
  v1::RecordContactRequest reached;
  reached.set_result(v1::CONTACT_RESULT_REACHED);
  EXPECT_EQ(act(&v1::FollowUpService::Stub::RecordContact, reached, lw2).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::RecordContact, reached, lw1).ok());
  v1::AgreePlanRequest plan;
  plan.set_plan("Join a walking group");
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::AgreePlan, plan, lw1).ok());
  v1::RecordConnectionRequest connect;
  connect.set_resource_id("walk-1");
  grpc::Status connected = act(&v1::FollowUpService::Stub::RecordConnection, connect, lw1);
  ASSERT_TRUE(connected.ok()) << connected.error_message();

  // At the directory itself, a token takes no place for a referral that is not its case.
  {
    grpc::ClientContext reserve_context;
    auth::AttachBearerToken(reserve_context, lw2);
    v1::ReservePlaceRequest reserve;
    reserve.set_resource_id("walk-1");
    reserve.set_referral_id("r1");
    v1::ReservePlaceResponse reserved;
    EXPECT_EQ(directory.ReservePlace(&reserve_context, reserve, &reserved).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  v1::CloseCaseRequest close;
  close.set_reason(v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(act(&v1::FollowUpService::Stub::CloseCase, close, lw2).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A stream of someone else's queue ends at once.
  grpc::ClientContext context;
  auth::AttachBearerToken(context, lw2);
  v1::SubscribeTasksRequest request;
  request.set_link_worker_id("lw-1");
  auto reader = Stub().SubscribeTasks(&context, request);
  v1::TaskUpdate update;
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// A stream opened with a token ends when the token does: nothing is delivered on it after that,
// and a fresh token resumes from the last resume token without missing anything.
TEST_F(FollowUpIntegrationTest, AStreamEndsWhenItsTokenExpiresAndResumesWithAFreshOne) {
  StartFollowUp("", {{"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()},
                     {"SIGNPOST_TOKEN_LEEWAY_SECONDS", "0"}});
  using signpost::testing::TestToken;
  auto worker = signpost::testing::LinkWorker("lw-1", "pcn-leeds-west");
  grpc::ClientContext context;
  auth::AttachBearerToken(context, TestToken(worker, absl::Seconds(3)));
  v1::SubscribeTasksRequest request;
  auto reader = Stub().SubscribeTasks(&context, request);
  v1::TaskUpdate update;
  std::string token;
  while (reader->Read(&update)) {
    if (update.snapshot_end()) {
      token = update.resume_token();
      break;
    }
  }
  ASSERT_FALSE(token.empty());
  absl::SleepFor(absl::Seconds(4));  // the token has expired (no leeway here)
  PublishMatched("r-late", "lw-1");
  bool delivered_after_expiry = false;
  while (reader->Read(&update)) delivered_after_expiry |= update.has_task();
  grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
  EXPECT_FALSE(delivered_after_expiry);

  grpc::ClientContext again;
  auth::AttachBearerToken(again, TestToken(worker));
  request.set_resume_token(token);
  auto resumed = Stub().SubscribeTasks(&again, request);
  bool got_it = false;
  while (!got_it && resumed->Read(&update)) {
    got_it = update.has_task() && update.task().referral_id() == "r-late";
  }
  EXPECT_TRUE(got_it);
  again.TryCancel();
  (void)resumed->Finish();
}

// Nothing to send is no reason to stay open: an idle stream ends with UNAUTHENTICATED when its
// token expires (here with no leeway), not at the next update.
TEST_F(FollowUpIntegrationTest, AnIdleStreamEndsWhenItsTokenExpires) {
  StartFollowUp("", {{"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()},
                     {"SIGNPOST_TOKEN_LEEWAY_SECONDS", "0"}});
  grpc::ClientContext context;
  auth::AttachBearerToken(
      context, signpost::testing::TestToken(signpost::testing::LinkWorker("lw-1", "pcn-leeds-west"),
                                            absl::Seconds(3)));
  // Far past the token's expiry: a stream still open then ends DEADLINE_EXCEEDED instead.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = Stub().SubscribeTasks(&context, v1::SubscribeTasksRequest());
  v1::TaskUpdate update;
  bool snapshot_end = false, task = false;
  while (reader->Read(&update)) {
    snapshot_end |= update.snapshot_end();
    task |= update.has_task();
  }
  grpc::Status ended = reader->Finish();
  EXPECT_TRUE(snapshot_end);
  EXPECT_FALSE(task);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
}

// An app that stops reading leaves a write in flight (HTTP/2 flow control holds it): the token's
// expiry still ends the stream, with UNAUTHENTICATED once the app reads again, and what was
// still to be sent is not.
TEST_F(FollowUpIntegrationTest, AStreamWithAWriteInFlightStillEndsWhenItsTokenExpires) {
  StartFollowUp("", {{"SIGNPOST_TOKEN_KEYS", signpost::testing::TestTokenKeysPath()},
                     {"SIGNPOST_TOKEN_LEEWAY_SECONDS", "0"}});
  constexpr int kTasks = 300;
  auto worker = signpost::testing::LinkWorker("lw-1", "pcn-leeds-west");
  for (int i = 0; i < kTasks; ++i) PublishMatched(absl::StrCat("r", i), "lw-1");
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext context;
        auth::AttachBearerToken(context, signpost::testing::TestToken(worker));
        v1::ListTasksRequest request;
        v1::ListTasksResponse response;
        return Stub().ListTasks(&context, request, &response).ok() &&
               response.tasks_size() == kTasks;
      },
      absl::Seconds(120)));

  // A small receive window, so the snapshot cannot all be buffered while the app is not reading.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = v1::FollowUpService::NewStub(grpc::CreateCustomChannel(
      followups_[0]->address(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  auth::AttachBearerToken(context, signpost::testing::TestToken(worker, absl::Seconds(3)));
  // Far past the token's expiry: a stream still open then ends DEADLINE_EXCEEDED instead.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub->SubscribeTasks(&context, v1::SubscribeTasksRequest());
  absl::SleepFor(absl::Seconds(6));  // not reading while the token (3 s, no leeway) expires
  v1::TaskUpdate update;
  int tasks = 0;
  bool snapshot_end = false;
  while (reader->Read(&update)) {
    tasks += update.has_task();
    snapshot_end |= update.snapshot_end();
  }
  grpc::Status ended = reader->Finish();
  ASSERT_LT(tasks, kTasks) << "the whole snapshot was buffered: no write was in flight";
  EXPECT_FALSE(snapshot_end);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
}

TEST_F(FollowUpIntegrationTest, APassedDeadlineFiresOnceWithTwoInstances) {
  StartFollowUp();
  StartFollowUp();
  PublishMatched("r1", "lw-1", v1::URGENCY_PRIORITY);
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));
  EXPECT_FALSE(HasOpenTask("lw-1", "r1/sla-breached"));

  SetClockOffset(absl::Hours(24 * 5));  // past the next working day, whatever today is
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/sla-breached"); }));
  ASSERT_TRUE(WaitUntil([&] {
    int n = 0;
    for (const auto& e : On(kafka::Topic::kFollowupEvents, "r1")) {
      n += e.case_event().alert() == v1::CASE_ALERT_SLA_BREACHED;
    }
    return n >= 1;
  }));
  absl::SleepFor(absl::Seconds(2));  // both schedulers have looked many times by now
  int breached_tasks = 0, breached_alerts = 0, at_risk_alerts = 0;
  for (const auto& e : On(kafka::Topic::kFollowupEvents, "r1")) {
    breached_tasks += e.task_event().task().kind() == v1::TASK_KIND_SLA_BREACHED;
    breached_alerts += e.case_event().alert() == v1::CASE_ALERT_SLA_BREACHED;
    at_risk_alerts += e.case_event().alert() == v1::CASE_ALERT_SLA_AT_RISK;
  }
  EXPECT_EQ(breached_tasks, 1);
  EXPECT_EQ(breached_alerts, 1);
  EXPECT_EQ(at_risk_alerts, 1);
}

// A caller that gave up waiting (its answer lost after the commit) retries with the same request
// id: the action is applied once, with one message, whatever happened to the first answer.
TEST_F(FollowUpIntegrationTest, ARetryOfAnActionWhoseAnswerWasLostIsNotAppliedAgain) {
  StartFollowUp();
  PublishMatched("r1", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));
  v1::RecordContactRequest contact;
  contact.set_link_worker_id("lw-1");
  contact.set_referral_id("r1");
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  contact.set_request_id("3f1c9a52-contact");

  // Redis stalls: the call waits in follow-up, and the caller gives up before it is answered.
  redis_.Suspend();
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    v1::Case lost;
    EXPECT_EQ(Stub().RecordContact(&context, contact, &lost).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  absl::SleepFor(absl::Milliseconds(200));  // less than follow-up's 2 s Redis command timeout
  redis_.Resume();
  // The waiting call goes on and commits: the contact is recorded, its answer lost.
  ASSERT_TRUE(WaitUntil([&] {
    auto raw = RawCase("r1");
    return raw.has_value() && raw->contact_attempts() >= 1;
  }));

  // The retry, with the same id: the case as it is, not a second attempt.
  {
    grpc::ClientContext context;
    v1::Case after;
    grpc::Status s = Stub().RecordContact(&context, contact, &after);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(after.contact_attempts(), 1);
    EXPECT_TRUE(after.applied_request_ids().empty());  // kept in Redis, never in an answer
  }
  // The id alone names the action: another action sent with it is taken as that retry too.
  {
    grpc::ClientContext context;
    v1::RecordContactRequest other = contact;
    other.set_result(v1::CONTACT_RESULT_NO_ANSWER);
    v1::Case after;
    ASSERT_TRUE(Stub().RecordContact(&context, other, &after).ok());
    EXPECT_EQ(after.contact_attempts(), 1);
  }
  auto raw = RawCase("r1");
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->contact_attempts(), 1);
  EXPECT_THAT(raw->applied_request_ids(), ElementsAre("3f1c9a52-contact"));

  // A new action with its own id applies; once its message is out, every earlier one is too.
  {
    grpc::ClientContext context;
    v1::AgreePlanRequest plan;
    plan.set_link_worker_id("lw-1");
    plan.set_referral_id("r1");
    plan.set_plan("Join a walking group");
    plan.set_request_id("3f1c9a52-plan");
    v1::Case after;
    ASSERT_TRUE(Stub().AgreePlan(&context, plan, &after).ok());
  }
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& e : On(kafka::Topic::kFollowupEvents, "r1")) {
      if (e.case_event().to_state() == v1::CASE_STATE_ENGAGED) return true;
    }
    return false;
  }));
  int contact_events = 0;
  for (const auto& e : On(kafka::Topic::kFollowupEvents, "r1")) {
    contact_events += e.case_event().contact_result() != v1::CONTACT_RESULT_UNSPECIFIED;
  }
  EXPECT_EQ(contact_events, 1);
  EXPECT_THAT(FeedbackKinds("r1"), ::testing::Contains(v1::FEEDBACK_KIND_FIRST_CONTACT).Times(1));
}

TEST_F(FollowUpIntegrationTest, ARequestIdThatIsTooLongOrNotPrintableIsRefusedByName) {
  StartFollowUp();
  PublishMatched("r1", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));
  for (const std::string& id : {std::string(65, 'a'), std::string("retry\n1")}) {
    grpc::ClientContext context;
    v1::RecordContactRequest contact;
    contact.set_link_worker_id("lw-1");
    contact.set_referral_id("r1");
    contact.set_result(v1::CONTACT_RESULT_REACHED);
    contact.set_request_id(id);
    v1::Case after;
    grpc::Status s = Stub().RecordContact(&context, contact, &after);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("request_id"), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(RawCase("r1")->contact_attempts(), 0);
}

TEST_F(FollowUpIntegrationTest, RestartingTheServiceAndRedisLosesNoCaseTaskOrTimer) {
  StartFollowUp();
  PublishMatched("r1", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));
  auto before = GetCase("lw-1", "r1");
  ASSERT_TRUE(before.ok());

  EXPECT_EQ(followups_[0]->Stop(), 0);
  redis_.Stop(/*crash=*/true);
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_TRUE(followups_[0]->Start().ok());
  stubs_[0] = v1::FollowUpService::NewStub(
      grpc::CreateChannel(followups_[0]->address(), grpc::InsecureChannelCredentials()));

  auto after = GetCase("lw-1", "r1");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->SerializeAsString(), before->SerializeAsString());
  EXPECT_TRUE(HasOpenTask("lw-1", "r1/first-contact"));
  // The deadline timer survived: moving the clock on fires it.
  SetClockOffset(absl::Hours(24 * 10));
  EXPECT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/sla-breached"); }));
}

TEST_F(FollowUpIntegrationTest, AFullJourneySendsTheMessagesBackInOrder) {
  auto& directory = StartMatching();
  {
    grpc::ClientContext context;
    v1::Resource response;
    grpc::Status s =
        directory.UpsertResource(&context, WalkingGroup(/*places_available=*/1), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  StartFollowUp(matching_->address());
  PublishMatched("r1", "lw-1");
  PublishMatched("r2", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return Tasks("lw-1").size() == 2; }));

  auto act = [&](auto method, auto request) -> absl::Status {
    grpc::ClientContext context;
    v1::Case response;
    request.set_link_worker_id("lw-1");
    return FromGrpcStatus((Stub().*method)(&context, request, &response));
  };
  auto journey = [&](const std::string& rid) -> absl::Status {
    v1::RecordContactRequest no_answer;
    no_answer.set_referral_id(rid);
    no_answer.set_result(v1::CONTACT_RESULT_NO_ANSWER);
    if (auto s = act(&v1::FollowUpService::Stub::RecordContact, no_answer); !s.ok()) return s;
    v1::RecordContactRequest reached = no_answer;
    reached.set_result(v1::CONTACT_RESULT_REACHED);
    if (auto s = act(&v1::FollowUpService::Stub::RecordContact, reached); !s.ok()) return s;
    v1::AgreePlanRequest plan;
    plan.set_referral_id(rid);
    plan.set_plan("Join a walking group; meet people nearby");
    if (auto s = act(&v1::FollowUpService::Stub::AgreePlan, plan); !s.ok()) return s;
    v1::RecordOutcomeRequest baseline;
    baseline.set_referral_id(rid);
    for (int a : {2, 3, 2, 3, 2, 3, 2})
      baseline.mutable_measure()->mutable_swemwbs()->add_answers(a);
    if (auto s = act(&v1::FollowUpService::Stub::RecordOutcome, baseline); !s.ok()) return s;
    v1::RecordConnectionRequest connect;
    connect.set_referral_id(rid);
    connect.set_resource_id("walk-1");
    return act(&v1::FollowUpService::Stub::RecordConnection, connect);
  };
  ASSERT_TRUE(journey("r1").ok());
  // The only place is taken: the second connection is refused, clearly.
  absl::Status full = journey("r2");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("no place left at Headingley Walking Group"), std::string::npos);

  v1::RecordAttendanceRequest attended;
  attended.set_referral_id("r1");
  attended.set_attended(true);
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::RecordAttendance, attended).ok());
  v1::RecordOutcomeRequest later;
  later.set_referral_id("r1");
  for (int a : {4, 4, 3, 4, 4, 3, 4}) later.mutable_measure()->mutable_swemwbs()->add_answers(a);
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::RecordOutcome, later).ok());
  v1::RecordOutcomeRequest out_of_range = later;
  out_of_range.mutable_measure()->mutable_swemwbs()->set_answers(2, 6);
  EXPECT_EQ(act(&v1::FollowUpService::Stub::RecordOutcome, out_of_range).code(),
            absl::StatusCode::kInvalidArgument);
  v1::CloseCaseRequest close;
  close.set_referral_id("r1");
  close.set_reason(v1::CLOSURE_REASON_COMPLETED);
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::CloseCase, close).ok());
  absl::Status again = act(&v1::FollowUpService::Stub::CloseCase, close);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("CLOSED"), std::string::npos);

  ASSERT_TRUE(WaitUntil([&] { return FeedbackKinds("r1").size() >= 5; }));
  EXPECT_THAT(FeedbackKinds("r1"),
              ElementsAre(v1::FEEDBACK_KIND_ACCEPTED, v1::FEEDBACK_KIND_ASSIGNED,
                          v1::FEEDBACK_KIND_FIRST_CONTACT, v1::FEEDBACK_KIND_CONNECTED,
                          v1::FEEDBACK_KIND_CLOSED));
  auto feedback = On(kafka::Topic::kReferrerFeedback, "r1");
  const auto& closed = feedback.back().referrer_feedback();
  EXPECT_EQ(closed.referrer_ods_code(), "B86001");
  EXPECT_EQ(closed.baseline().swemwbs().answers_size(), 7);
  EXPECT_EQ(closed.latest().swemwbs().answers(0), 4);
  std::set<std::string> keys;
  for (const auto& e : feedback) keys.insert(e.referrer_feedback().idempotency_key());
  EXPECT_EQ(keys.size(), feedback.size());
  // Each message back as the GP system files it: the step and its code, and the same as a FHIR
  // message Bundle (MessageHeader first, the referral's Task in the step's status), made from
  // the event itself; the scores, shared with consent, as Observations.
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"accepted", "accepted"},
      {"assigned", "accepted"},
      {"first-contact", "in-progress"},
      {"connected", "in-progress"},
      {"closed-completed", "completed"}};
  ASSERT_EQ(feedback.size(), steps.size());
  for (size_t i = 0; i < feedback.size(); ++i) {
    const v1::ReferrerFeedback& f = feedback[i].referrer_feedback();
    EXPECT_EQ(f.message_back().step(), steps[i].first);
    EXPECT_EQ(f.fhir_message(), FeedbackFhirMessage(feedback[i]));
    nlohmann::json bundle = nlohmann::json::parse(f.fhir_message());
    EXPECT_EQ(bundle["type"], "message");
    EXPECT_EQ(bundle["entry"][0]["resource"]["resourceType"], "MessageHeader");
    EXPECT_EQ(bundle["entry"][1]["resource"]["status"], steps[i].second) << steps[i].first;
  }
  EXPECT_THAT(feedback[0].referrer_feedback().snomed_codes(), ElementsAre("871731000000106"));
  EXPECT_EQ(closed.message_back().outcomes(), v1::OUTCOMES_SHARING_SHARED);
  EXPECT_EQ(closed.message_back().support_offered(0).resource_id(), "walk-1");
  size_t observations = 0;
  const nlohmann::json closed_bundle = nlohmann::json::parse(closed.fhir_message());
  for (const auto& entry : closed_bundle["entry"]) {
    observations += entry["resource"]["resourceType"] == "Observation" ? 1 : 0;
  }
  EXPECT_EQ(observations, 2u);
}

// A case with two needs connects twice: each connection is a message of its own (its own
// idempotency key and event id, so GP systems that file by key keep both), and the check-ins
// counted from the first connection stay as they were.
TEST_F(FollowUpIntegrationTest, EachConnectionIsItsOwnMessageAndLeavesTheCheckInsAsTheyWere) {
  auto& directory = StartMatching();
  v1::UpsertResourceRequest garden = WalkingGroup(/*places_available=*/5);
  garden.mutable_resource()->set_id("garden-1");
  garden.mutable_resource()->set_name("Kirkstall Community Garden");
  garden.mutable_resource()->clear_need_categories();
  garden.mutable_resource()->add_need_categories(v1::NEED_CATEGORY_GARDENING_AND_NATURE);
  for (const auto& request : {WalkingGroup(/*places_available=*/5), garden}) {
    grpc::ClientContext context;
    v1::Resource response;
    grpc::Status s = directory.UpsertResource(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  StartFollowUp(matching_->address());
  PublishMatched("r1", "lw-1", v1::URGENCY_ROUTINE, [](v1::ReferralMatched& m) {
    auto* need = m.add_needs();
    need->mutable_need()->set_category(v1::NEED_CATEGORY_GARDENING_AND_NATURE);
    need->add_options()->set_resource_id("garden-1");
    need->mutable_options(0)->set_resource_name("Kirkstall Community Garden");
  });
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));

  auto act = [&](auto method, auto request) -> absl::Status {
    grpc::ClientContext context;
    v1::Case response;
    request.set_link_worker_id("lw-1");
    request.set_referral_id("r1");
    return FromGrpcStatus((Stub().*method)(&context, request, &response));
  };
  auto connect = [&](const std::string& resource) {
    v1::RecordConnectionRequest request;
    request.set_resource_id(resource);
    return act(&v1::FollowUpService::Stub::RecordConnection, request);
  };
  v1::RecordContactRequest reached;
  reached.set_result(v1::CONTACT_RESULT_REACHED);
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::RecordContact, reached).ok());
  v1::AgreePlanRequest plan;
  plan.set_plan("Walking on Tuesdays, the garden at weekends");
  ASSERT_TRUE(act(&v1::FollowUpService::Stub::AgreePlan, plan).ok());
  ASSERT_TRUE(connect("walk-1").ok());

  // The check-in timers as the first connection set them: due time and record.
  redis::PoolOptions options;
  options.address = *ParseRedisAddress(redis_.address());
  auto pool = redis::RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  auto check_ins = [&] {
    std::map<std::string, std::string> out;
    auto timers = (*pool)->Execute({"ZRANGE", "fu:timers", "0", "-1", "WITHSCORES"});
    EXPECT_TRUE(timers.ok());
    if (!timers.ok()) return out;
    for (size_t i = 0; i + 1 < timers->elements.size(); i += 2) {
      const std::string& id = timers->elements[i].str;
      if (id.find("/check-in-") == std::string::npos) continue;
      auto record = (*pool)->Execute({"GET", "fu:timer:" + id});
      out[id] = timers->elements[i + 1].str + " " + (record.ok() ? record->str : "?");
    }
    return out;
  };
  const auto before = check_ins();
  ASSERT_EQ(before.size(), 2u);  // days 14 and 42

  SetClockOffset(absl::Hours(24));  // a day later, the second need
  absl::Status second = connect("garden-1");
  ASSERT_TRUE(second.ok()) << second;
  EXPECT_EQ(check_ins(), before);

  std::vector<v1::Event> connected;
  ASSERT_TRUE(WaitUntil([&] {
    connected.clear();
    for (const auto& e : On(kafka::Topic::kReferrerFeedback, "r1")) {
      if (e.referrer_feedback().kind() == v1::FEEDBACK_KIND_CONNECTED) connected.push_back(e);
    }
    return connected.size() >= 2;
  }));
  ASSERT_EQ(connected.size(), 2u);
  EXPECT_NE(connected[0].referrer_feedback().idempotency_key(),
            connected[1].referrer_feedback().idempotency_key());
  EXPECT_NE(connected[0].envelope().event_id(), connected[1].envelope().event_id());
  EXPECT_THAT(connected[0].referrer_feedback().summary(), ::testing::HasSubstr("walk-1"));
  EXPECT_THAT(connected[1].referrer_feedback().summary(), ::testing::HasSubstr("garden-1"));

  // The same connection again (an answer lost, the app retries) succeeds as the first did, and is
  // no third message.
  absl::Status again = connect("garden-1");
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_EQ(check_ins(), before);
  auto kase = GetCase("lw-1", "r1");
  ASSERT_TRUE(kase.ok()) << kase.status();
  EXPECT_THAT(kase->connected_resource_ids(), ElementsAre("walk-1", "garden-1"));
}

// Withdrawals come by a group of their own (signpost-followup-withdrawals), so one can overtake
// its referral's match: the match then finds the referral withdrawn and opens nothing.
// A record that can never be handled (a case stored corrupt: DATA_LOSS) goes to the dead-letter
// topic with its reason, and the rest of its partition goes on; it does not stall it for ever.
TEST_F(FollowUpIntegrationTest, ACorruptRecordIsDeadLetteredAndItsPartitionGoesOn) {
  StartFollowUp();
  std::vector<std::string> others;
  for (int i = 0; i < 12; ++i) others.push_back(absl::StrCat("r-next-", i));
  for (const auto& rid : others) PublishMatched(rid, "lw-1");
  PublishMatched("r-corrupt", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return Tasks("lw-1").size() == others.size() + 1; }));
  redis::PoolOptions options;
  options.address = *ParseRedisAddress(redis_.address());
  auto pool = redis::RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE(
      (*pool)->Execute({"HSET", "fu:case:r-corrupt", "b", std::string("\x0a\xff", 2)}).ok());

  PublishWithdrawn("r-corrupt");
  for (const auto& rid : others) PublishWithdrawn(rid);
  // Some of the others share r-corrupt's partition (the partitioner is fixed, so this holds).
  std::map<std::string, int32_t> partition_of;
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kReferralReceived))
                             .value_or(std::vector<kafka::ConsumedMessage>{})) {
      partition_of[m.key] = m.partition;
    }
    return partition_of.size() == others.size() + 1;
  }));
  int behind = 0;
  for (const auto& rid : others) behind += partition_of[rid] == partition_of["r-corrupt"];
  ASSERT_GT(behind, 0);

  std::string reason;
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kDeadletter))
                                 .value_or(std::vector<kafka::ConsumedMessage>{})) {
          if (m.key == "r-corrupt") {
            reason = std::string(
                kafka::FindHeader(m.headers, kafka::kHeaderDeadLetterReason).value_or(""));
          }
        }
        return !reason.empty();
      },
      absl::Seconds(90)));
  EXPECT_EQ(reason, "unreadable case r-corrupt in Redis");
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const auto& rid : others) {
          auto c = GetCase("lw-1", rid);
          if (!c.ok() || c->state() != v1::CASE_STATE_WITHDRAWN) return false;
        }
        return true;
      },
      absl::Seconds(90)));
}

// The person's details reach Redis sealed: no value, no byte of the AOF and none of a snapshot
// holds the NHS number, name, phone, email, address or the referrer's notes; GetCase opens them.
TEST_F(FollowUpIntegrationTest, NeitherRedisNorItsFilesHoldThePersonsDetailsInClear) {
  StartFollowUp();
  const crypto::DataKeyring keys = signpost::testing::TestDataKeys();
  const std::vector<std::string> planted = {kNhsNumber,
                                            kName,
                                            "Plantedsurname",
                                            "07700 900461",
                                            "amira@example.org",
                                            "17 Plantedhouse Lane",
                                            "Prefers a call after 10am."};
  auto details = [](v1::ReferralMatched& m) {
    auto* id = m.mutable_referral()->mutable_identity();
    id->set_family_name("Plantedsurname");
    id->set_phone("07700 900461");
    id->set_email("amira@example.org");
    id->add_address_lines("17 Plantedhouse Lane");
  };
  sealing_ = &keys;
  PublishMatched("r1", "lw-1", v1::URGENCY_ROUTINE, details);
  sealing_ = nullptr;
  // As a referral from before intake sealed them: in clear on the bus, sealed all the same here.
  PublishMatched("r2", "lw-1", v1::URGENCY_ROUTINE, details);
  for (const char* rid : {"r1", "r2"}) {
    absl::StatusOr<v1::Case> kase;
    ASSERT_TRUE(WaitUntil([&] { return (kase = GetCase("lw-1", rid)).ok(); })) << rid;
    EXPECT_EQ(kase->identity().nhs_number(), kNhsNumber);
    EXPECT_EQ(kase->identity().phone(), "07700 900461");
    EXPECT_FALSE(kase->has_sealed_details());
    ASSERT_TRUE(RecordReached(rid).ok());
    std::optional<v1::Case> raw = RawCase(rid);
    ASSERT_TRUE(raw.has_value()) << rid;
    EXPECT_FALSE(raw->has_identity());
    EXPECT_TRUE(raw->referral_notes().empty());
    EXPECT_EQ(raw->sealed_details().key_id(), keys.current().id);
    EXPECT_EQ(raw->contact_attempts(), 1);
  }

  // Every follow-up value in Redis, whatever its type.
  auto pool = signpost::testing::PoolFor(redis_);
  ASSERT_TRUE(pool);
  auto all = pool->Execute({"KEYS", "fu:*"});
  ASSERT_TRUE(all.ok());
  std::string values;
  std::function<void(const redis::Reply&)> collect = [&](const redis::Reply& r) {
    values += r.str;
    for (const auto& e : r.elements) collect(e);
  };
  for (const auto& key : all->elements) {
    auto type = pool->Execute({"TYPE", key.str});
    ASSERT_TRUE(type.ok());
    redis::Command read;
    if (type->str == "string") read = {"GET", key.str};
    if (type->str == "hash") read = {"HGETALL", key.str};
    if (type->str == "zset") read = {"ZRANGE", key.str, "0", "-1"};
    if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
    ASSERT_FALSE(read.empty()) << key.str << " is a " << type->str;
    auto value = pool->Execute(read);
    ASSERT_TRUE(value.ok());
    collect(*value);
  }
  const std::string files = RedisFiles();
  EXPECT_NE(files.find("r1/first-contact"), std::string::npos) << "no case in Redis's files?";
  for (const auto& detail : planted) {
    EXPECT_EQ(values.find(detail), std::string::npos) << detail << " in a Redis value";
    EXPECT_EQ(files.find(detail), std::string::npos) << detail << " in Redis's AOF or snapshot";
  }
}

// Key rotation for what Redis holds: a case sealed under the old key opens after a restart with
// the new key first, an action leaves it so, a new case is sealed with the new key; a keyring
// that has dropped the old key says which key is missing, and nothing else.
TEST_F(FollowUpIntegrationTest, CasesSealedUnderAnOldKeyOpenAfterRotationAndTheNewKeySeals) {
  StartFollowUp();
  const crypto::DataKeyring old_keys = signpost::testing::TestDataKeys();
  PublishSealedMatched("r1", "lw-1", old_keys);
  ASSERT_TRUE(WaitUntil([&] { return GetCase("lw-1", "r1").ok(); }));
  ASSERT_TRUE(RawCase("r1").has_value());
  EXPECT_EQ(RawCase("r1")->sealed_details().key_id(), old_keys.current().id);

  RestartFollowUp({{"SIGNPOST_DATA_KEYS", RotatedKeysFile("rotated-b")}});
  absl::StatusOr<v1::Case> opened;
  ASSERT_TRUE(WaitUntil([&] { return (opened = GetCase("lw-1", "r1")).ok(); }, absl::Seconds(60)))
      << opened.status();
  EXPECT_EQ(opened->identity().nhs_number(), kNhsNumber);
  EXPECT_EQ(opened->referral_notes(), "Prefers a call after 10am.");
  ASSERT_TRUE(RecordReached("r1").ok());
  ASSERT_TRUE(RawCase("r1").has_value());
  EXPECT_EQ(RawCase("r1")->sealed_details().key_id(), old_keys.current().id);
  opened = GetCase("lw-1", "r1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->identity().given_name(), kName);

  // A case opened now is sealed with the new first key, whichever key sealed it on the bus.
  PublishSealedMatched("r2", "lw-1", old_keys);
  ASSERT_TRUE(WaitUntil([&] { return GetCase("lw-1", "r2").ok(); }));
  ASSERT_TRUE(RawCase("r2").has_value());
  EXPECT_EQ(RawCase("r2")->sealed_details().key_id(), "rotated-b");
  absl::StatusOr<v1::Case> r2 = GetCase("lw-1", "r2");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->identity().nhs_number(), kNhsNumber);

  // The old key dropped too soon: its cases are refused naming the key, the others open.
  RestartFollowUp({{"SIGNPOST_DATA_KEYS", RotatedKeysFile("rotated-b", /*without_old=*/true)}});
  absl::StatusOr<v1::Case> refused;
  ASSERT_TRUE(WaitUntil(
      [&] {
        refused = GetCase("lw-1", "r1");
        return refused.status().code() != absl::StatusCode::kUnavailable;
      },
      absl::Seconds(60)));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(old_keys.current().id), std::string::npos)
      << refused.status();
  EXPECT_EQ(refused.status().message().find(kNhsNumber), std::string::npos);
  r2 = GetCase("lw-1", "r2");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->identity().nhs_number(), kNhsNumber);
}

// A case an older follow-up wrote with the person's details in clear, and that nothing acts on,
// is sealed once follow-up starts: Redis then holds none of its details, its version is the same
// (nothing about the case changed), and GetCase opens them as before.
TEST_F(FollowUpIntegrationTest, ACaseWrittenInClearBeforeSealingIsSealedWhenFollowUpStarts) {
  v1::Case old;
  old.set_referral_id("r-old");
  old.set_state(v1::CASE_STATE_ASSIGNED);
  old.set_link_worker_id("lw-1");
  old.set_network_id("net-1");
  old.mutable_identity()->set_nhs_number(kNhsNumber);
  old.mutable_identity()->set_given_name(kName);
  old.mutable_identity()->set_phone("07700 900462");
  old.set_referral_notes("Planted note: call the daughter first.");
  old.set_version(3);
  {
    auto pool = signpost::testing::PoolFor(redis_);
    ASSERT_TRUE(pool);
    ASSERT_TRUE(
        pool->Execute({"HSET", "fu:case:r-old", "v", "3", "b", old.SerializeAsString()}).ok());
  }
  StartFollowUp();
  std::optional<v1::Case> raw;
  EXPECT_TRUE(WaitUntil(
      [&] {
        raw = RawCase("r-old");
        return raw.has_value() && raw->has_sealed_details();
      },
      absl::Seconds(60)))
      << "the case is still in clear in Redis";
  ASSERT_TRUE(raw.has_value());
  EXPECT_FALSE(raw->has_identity());
  EXPECT_TRUE(raw->referral_notes().empty());
  EXPECT_EQ(raw->version(), 3);
  auto pool = signpost::testing::PoolFor(redis_);
  ASSERT_TRUE(pool);
  auto version = pool->Execute({"HGET", "fu:case:r-old", "v"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->str, "3");
  auto bytes = pool->Execute({"HGET", "fu:case:r-old", "b"});
  ASSERT_TRUE(bytes.ok());
  for (const std::string detail : {kNhsNumber, kName, "07700 900462", "call the daughter"}) {
    EXPECT_EQ(bytes->str.find(detail), std::string::npos) << detail;
  }
  absl::StatusOr<v1::Case> opened;
  ASSERT_TRUE(WaitUntil([&] { return (opened = GetCase("lw-1", "r-old")).ok(); }))
      << opened.status();
  EXPECT_EQ(opened->identity().nhs_number(), kNhsNumber);
  EXPECT_EQ(opened->referral_notes(), "Planted note: call the daughter first.");
}

TEST_F(FollowUpIntegrationTest, AWithdrawalThatOvertakesItsMatchLeavesNothingToDo) {
  ServiceProcess& followup = StartFollowUp();
  PublishWithdrawn("r1");
  ASSERT_TRUE(WaitUntil([&] {
    auto kinds = FeedbackKinds("r1");
    return !kinds.empty() && kinds.back() == v1::FEEDBACK_KIND_WITHDRAWN;
  }));
  PublishMatched("r1", "lw-1");
  httplib::Client http("127.0.0.1", followup.metrics_port());
  ASSERT_TRUE(WaitUntil([&] {
    auto metrics = http.Get("/metrics");
    return metrics &&
           metrics->body.find("signpost_followup_events_total{type=\"referral.matched\"} 1") !=
               std::string::npos;
  })) << followup.Logs();
  EXPECT_TRUE(Tasks("lw-1").empty());
  EXPECT_THAT(FeedbackKinds("r1"), ::testing::ElementsAre(v1::FEEDBACK_KIND_WITHDRAWN));
}

// A rejection redelivered after the instance that told the referrer stopped reaches another
// instance: its message back has the same event id, so it must be the same bytes (a consumer
// that keeps the first of an id would otherwise file one of two differing messages).
TEST_F(FollowUpIntegrationTest, ARejectionRedeliveredToAnotherInstanceIsTheSameMessageBack) {
  v1::Event rejected;
  auto* r = rejected.mutable_referral_rejected();
  r->set_source_system("emis-test");
  r->set_source_referral_id("src-rj");
  r->set_referrer_ods_code("B86001");
  r->set_reason("1 problem");
  auto* v = r->add_violations();
  v->set_field("identity.nhs_number");
  v->set_description("fails the check digit");
  events::Seal(rejected, "rj", "signpost-intake", absl::Now());
  const kafka::OutgoingMessage record =
      events::ToMessage(rejected, env_.Topic(kafka::Topic::kReferralRejected), "rj");
  auto feedback_values = [&] {
    std::vector<std::string> values;
    for (const auto& m : ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kReferrerFeedback))
                             .value_or(std::vector<kafka::ConsumedMessage>{})) {
      auto e = events::ParseEvent(m);
      if (e.ok() && e->envelope().referral_id() == "rj" && m.value) values.push_back(*m.value);
    }
    return values;
  };
  StartFollowUp();
  ASSERT_TRUE(producer_->Send(record).ok());
  ASSERT_TRUE(WaitUntil([&] { return feedback_values().size() == 1; }));
  RestartFollowUp({});  // another instance id: fu-1
  ASSERT_TRUE(producer_->Send(record).ok());
  ASSERT_TRUE(WaitUntil([&] { return feedback_values().size() == 2; }));
  const std::vector<std::string> values = feedback_values();
  v1::Event first, second;
  ASSERT_TRUE(first.ParseFromString(values[0]) && second.ParseFromString(values[1]));
  EXPECT_EQ(first.envelope().event_id(), second.envelope().event_id());
  EXPECT_EQ(first.envelope().producer(), second.envelope().producer());
  EXPECT_TRUE(values[0] == values[1]) << "the same event id in different bytes";
}

TEST_F(FollowUpIntegrationTest, AWithdrawalCancelsTasksAndLeavesNoPersonalDetails) {
  StartFollowUp();
  PublishMatched("r1", "lw-1");
  ASSERT_TRUE(WaitUntil([&] { return HasOpenTask("lw-1", "r1/first-contact"); }));
  ASSERT_TRUE(RawCase("r1").has_value());
  EXPECT_TRUE(RawCase("r1")->has_sealed_details());  // kept sealed until the withdrawal
  PublishWithdrawn("r1");
  ASSERT_TRUE(WaitUntil([&] {
    auto c = GetCase("lw-1", "r1");
    return c.ok() && c->state() == v1::CASE_STATE_WITHDRAWN;
  }));
  EXPECT_TRUE(Tasks("lw-1").empty());
  ASSERT_TRUE(WaitUntil([&] { return FeedbackKinds("r1").size() == 3; }));
  EXPECT_EQ(FeedbackKinds("r1").back(), v1::FEEDBACK_KIND_WITHDRAWN);
  bool cancelled = false;
  for (const auto& e : On(kafka::Topic::kFollowupEvents, "r1")) {
    cancelled |= e.task_event().task().status() == v1::TASK_STATUS_CANCELLED;
  }
  EXPECT_TRUE(cancelled);

  // Every follow-up value in Redis, whatever its type.
  redis::PoolOptions options;
  options.address = *ParseRedisAddress(redis_.address());
  auto pool = redis::RedisPool::Create(options);
  ASSERT_TRUE(pool.ok());
  auto keys = (*pool)->Execute({"KEYS", "fu:*"});
  ASSERT_TRUE(keys.ok());
  ASSERT_FALSE(keys->elements.empty());
  std::string everything;
  std::function<void(const redis::Reply&)> collect = [&](const redis::Reply& r) {
    everything += r.str;
    for (const auto& e : r.elements) collect(e);
  };
  for (const auto& key : keys->elements) {
    auto type = (*pool)->Execute({"TYPE", key.str});
    ASSERT_TRUE(type.ok());
    redis::Command read;
    if (type->str == "string") read = {"GET", key.str};
    if (type->str == "hash") read = {"HGETALL", key.str};
    if (type->str == "zset") read = {"ZRANGE", key.str, "0", "-1"};
    if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
    ASSERT_FALSE(read.empty()) << key.str << " is a " << type->str;
    auto value = (*pool)->Execute(read);
    ASSERT_TRUE(value.ok());
    collect(*value);
  }
  EXPECT_EQ(everything.find(kName), std::string::npos);
  EXPECT_EQ(everything.find(kNhsNumber), std::string::npos);
  // Purged, not only out of sight: nothing sealed is left to open either.
  std::optional<v1::Case> purged = RawCase("r1");
  ASSERT_TRUE(purged.has_value());
  EXPECT_FALSE(purged->has_sealed_details());
  EXPECT_FALSE(purged->has_identity());
  EXPECT_TRUE(purged->personal_data_purged());
}

// gRPC 1.51 runs callback handlers on a fixed executor: 2 threads a core. A call that needs Redis
// while Redis is frozen waits for the client's command timeout (2 s); so many of them that they
// would hold every such thread for minutes must not stop the health service, nor a call that needs
// no Redis, from being answered, and once Redis goes on each gets an answer.
TEST_F(FollowUpIntegrationTest, AFrozenRedisHoldsNoCallbackThread) {
  ServiceProcess& followup = StartFollowUp();
  auto channel = grpc::CreateChannel(followup.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::FollowUpService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto served = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&context, request, &response).ok();
  };
  // Refused on its purpose before anything is read.
  auto refused_without_redis = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::GetCaseRequest request;
    request.set_link_worker_id("lw-1");
    request.set_referral_id("r1");
    request.set_purpose(std::string(200, 'x'));
    v1::Case response;
    return stub->GetCase(&context, request, &response).error_code() ==
           grpc::StatusCode::INVALID_ARGUMENT;
  };
  ASSERT_TRUE(WaitUntil(served));
  ASSERT_TRUE(refused_without_redis());

  redis_.Suspend();
  // Either kind alone, run on callback threads, would hold all of them for most of a minute.
  const int calls = 100 * static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  struct Call {
    grpc::ClientContext context;
    v1::ListTasksRequest request;
    v1::ListTasksResponse response;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> listed;
  absl::Mutex mu;
  int finished = 0;
  for (int i = 0; i < calls; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    call->request.set_link_worker_id(absl::StrCat("lw-", i));
    Call* c = call.get();
    stub->async()->ListTasks(&c->context, &c->request, &c->response,
                             [c, &mu, &finished](grpc::Status status) {
                               absl::MutexLock lock(&mu);
                               c->status = std::move(status);
                               ++finished;
                             });
    listed.push_back(std::move(call));
  }
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int i = 0; i < calls / 2; ++i) {
    subscriptions.push_back(std::make_unique<Subscription>(*stub, absl::StrCat("lw-", i)));
  }

  ::signpost::testing::ExpectAnsweredWhileCallsAreParked(served, refused_without_redis,
                                                         [&] { redis_.Resume(); });

  // Every parked call ends: answered, or refused with a status that says why.
  ASSERT_TRUE(WaitUntil(
      [&] {
        absl::MutexLock lock(&mu);
        return finished == calls;
      },
      absl::Seconds(240)));
  std::vector<grpc::Status> statuses;
  for (const auto& c : listed) statuses.push_back(c->status);
  ::signpost::testing::ExpectEachAnsweredOrRefusedClearly(statuses);
  for (auto& s : subscriptions) {
    EXPECT_TRUE(
        WaitUntil([&] { return !s->LastToken().empty() || !s->Ended().ok(); }, absl::Seconds(240)));
    if (!s->Ended().ok()) {
      EXPECT_FALSE(s->Ended().message().empty()) << s->Ended();
    }
  }
  subscriptions.clear();
  EXPECT_TRUE(served());
}

// Issue 24, bounded growth: an ended case leaves Redis --closed-case-retention-days after it ended
// (the service's clock moved with --clock-offset-file: Redis's own cannot be), with every key it
// had; its final state is on the topic before that; GetCase then answers FAILED_PRECONDITION "no
// longer held", distinct from NOT_FOUND; the queue's listing still works and shows the open case.
TEST_F(FollowUpIntegrationTest, AnEndedCaseLeavesRedisAfterItsRetentionAndIsNoLongerHeld) {
  StartFollowUp("", {}, {"--closed-case-retention-days", "30", "--retention-sweep-seconds", "1"});
  PublishMatched("r-ended", "lw-1");
  PublishMatched("r-open", "lw-1");
  ASSERT_TRUE(
      WaitUntil([&] { return GetCase("lw-1", "r-ended").ok() && GetCase("lw-1", "r-open").ok(); }));
  {
    grpc::ClientContext context;
    v1::CloseCaseRequest close;
    close.set_link_worker_id("lw-1");
    close.set_referral_id("r-ended");
    close.set_reason(v1::CLOSURE_REASON_DECLINED);
    v1::Case after;
    grpc::Status closed = Stub().CloseCase(&context, close, &after);
    ASSERT_TRUE(closed.ok()) << closed.error_message();
  }
  // Its final state is on the topic.
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& e : On(kafka::Topic::kFollowupEvents, "r-ended")) {
      if (e.case_event().to_state() == v1::CASE_STATE_DECLINED) return true;
    }
    return false;
  }));
  auto redis = signpost::testing::PoolFor(redis_);
  ASSERT_TRUE(redis);
  auto keys_of = [&](const std::string& rid) {
    auto keys = redis->Execute({"KEYS", "fu:*" + rid + "*"});
    return keys.ok() ? keys->elements.size() : size_t{999};
  };
  EXPECT_GT(keys_of("r-ended"), 0u);

  SetClockOffset(absl::Hours(24 * 29));
  absl::SleepFor(absl::Seconds(2));  // the clock file read again, and a sweep run: still held
  EXPECT_TRUE(GetCase("lw-1", "r-ended").ok());

  SetClockOffset(absl::Hours(24 * 31));
  absl::Status gone;
  ASSERT_TRUE(WaitUntil([&] {
    gone = GetCase("lw-1", "r-ended").status();
    return gone.code() == absl::StatusCode::kFailedPrecondition;
  })) << gone;
  EXPECT_THAT(std::string(gone.message()),
              ::testing::HasSubstr("case of referral r-ended is no longer held: a case leaves "
                                   "follow-up 30 days after it ended"));
  EXPECT_EQ(keys_of("r-ended"), 0u);
  EXPECT_EQ(GetCase("lw-1", "r-never-seen").status().code(), absl::StatusCode::kNotFound);
  // The open case is held, and the queue lists only its task.
  EXPECT_TRUE(GetCase("lw-1", "r-open").ok());
  std::vector<v1::Task> tasks = Tasks("lw-1");
  ASSERT_FALSE(tasks.empty());
  for (const auto& t : tasks) EXPECT_EQ(t.referral_id(), "r-open");
}

}  // namespace
}  // namespace signpost::followup
