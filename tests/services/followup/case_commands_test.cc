// Opening a batch's cases together, against a real redis-server: each case once, as one by one;
// an action retried with its request id, applied once.
#include "services/followup/case_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/redis/redis_pool.h"
#include "services/followup/place_reserver.h"
#include "services/followup/redis_case_store.h"
#include "tests/services/followup/batch_events.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/wait_until.h"

namespace signpost::followup {
namespace {

using batch_events::kMonday;
using batch_events::Matched;
using batch_events::Withdrawn;

// The Redis store, counting the calls made to it: how many round trips a batch took.
class CountingStore final : public CaseStore {
 public:
  explicit CountingStore(CaseStore& store) : store_(store) {}
  absl::StatusOr<std::optional<LoadedCase>> Load(const std::string& id) override {
    ++loads;
    return store_.Load(id);
  }
  absl::Status Commit(const CaseChange& change) override {
    ++commits;
    return store_.Commit(change);
  }
  absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& ids) override {
    ++exists;
    return store_.Exist(ids);
  }
  std::vector<absl::Status> CommitMany(const std::vector<CaseChange>& changes) override {
    ++commit_manys;
    return store_.CommitMany(changes);
  }
  absl::StatusOr<std::optional<v1::Task>> GetTask(const std::string& id) override {
    return store_.GetTask(id);
  }
  absl::StatusOr<QueueSnapshot> Snapshot(const std::string& queue) override {
    return store_.Snapshot(queue);
  }
  absl::StatusOr<std::vector<v1::FollowUpTimer>> ClaimDueTimers(absl::Time now,
                                                                absl::Duration lease,
                                                                int limit) override {
    return store_.ClaimDueTimers(now, lease, limit);
  }
  absl::Status DropTimer(const std::string& id) override { return store_.DropTimer(id); }
  absl::Status AwaitReplicated() override { return store_.AwaitReplicated(); }

  int loads = 0, commits = 0, exists = 0, commit_manys = 0;

 private:
  CaseStore& store_;
};

class CaseCommandsTest : public testing::RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    redis_store_ = std::make_unique<RedisCaseStore>(*pool_, RedisKeys{}, "");
    store_ = std::make_unique<CountingStore>(*redis_store_);
    workflow_ = std::make_unique<CaseWorkflow>(WorkflowOptions{});
    commands_ = std::make_unique<CaseCommands>(
        *store_, *workflow_, nullptr, [] { return kMonday; }, [this] { ++commits_; });
  }

  int64_t OutboxLength() {
    auto n = pool_->Execute({"XLEN", RedisKeys{}.Outbox()});
    return n.ok() ? n->integer : -1;
  }

  std::unique_ptr<RedisCaseStore> redis_store_;
  std::unique_ptr<CountingStore> store_;
  std::unique_ptr<CaseWorkflow> workflow_;
  std::unique_ptr<CaseCommands> commands_;
  int commits_ = 0;
};

TEST_F(CaseCommandsTest, ABatchOfMatchesOpensEachCaseOnceAsOneByOneWould) {
  // Opened before the batch, and one withdrawn before its match arrived.
  ASSERT_TRUE(commands_->Open(Matched("r-before")).ok());
  ASSERT_TRUE(commands_->Withdraw(Withdrawn("r-withdrawn")).ok());
  const int64_t outbox_before = OutboxLength();
  const int commits_before = commits_;
  store_->loads = store_->commits = store_->exists = store_->commit_manys = 0;

  std::vector<v1::Event> batch = {Matched("r-1"),         Matched("r-2"), Matched("r-before"),
                                  Matched("r-1"),  // redelivered within the batch
                                  Matched("r-withdrawn"), Matched("r-3")};
  v1::Event no_id = Matched("r-x");
  no_id.mutable_envelope()->clear_referral_id();
  batch.push_back(no_id);
  std::vector<const v1::Event*> pointers;
  for (const auto& e : batch) pointers.push_back(&e);

  std::vector<absl::Status> opened = commands_->OpenMany(pointers);
  ASSERT_EQ(opened.size(), batch.size());
  // One trip to ask which have a case, one to commit the new ones; only the redelivered r-1 lost
  // its race and was redone on its own (it then found its case).
  EXPECT_EQ(store_->exists, 1);
  EXPECT_EQ(store_->commit_manys, 1);
  EXPECT_EQ(store_->loads, 1);
  EXPECT_EQ(store_->commits, 0);
  for (size_t i = 0; i + 1 < opened.size(); ++i) EXPECT_TRUE(opened[i].ok()) << i << opened[i];
  EXPECT_EQ(opened.back().code(), absl::StatusCode::kInvalidArgument);

  // Three new cases, each at its first version, assigned, with its task; none opened twice.
  for (const char* rid : {"r-1", "r-2", "r-3"}) {
    auto loaded = store_->Load(rid);
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << rid;
    EXPECT_EQ((*loaded)->kase.state(), v1::CASE_STATE_ASSIGNED) << rid;
    EXPECT_EQ((*loaded)->open_tasks.size(), 1u) << rid;
    auto version = pool_->Execute({"HGET", absl::StrCat("fu:case:", rid), "v"});
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(version->str, "1") << rid;
  }
  auto withdrawn = store_->Load("r-withdrawn");
  ASSERT_TRUE(withdrawn.ok() && withdrawn->has_value());
  EXPECT_EQ((*withdrawn)->kase.state(), v1::CASE_STATE_WITHDRAWN);
  // The events of three openings, as many as r-before's opening wrote, and no more.
  auto one_opening = workflow_->Open(Matched("r-count"), kMonday);
  ASSERT_TRUE(one_opening.ok());
  EXPECT_EQ(OutboxLength() - outbox_before, 3 * static_cast<int64_t>(one_opening->events.size()));
  EXPECT_EQ(commits_, commits_before + 1);  // the outbox was woken once for the batch
}

// A retry with the request id of an action applied before (its answer lost) is answered with the
// case as it is: no second commit, nothing more in the outbox.
TEST_F(CaseCommandsTest, AnActionOrTaskCompletionRetriedWithItsRequestIdIsAppliedOnce) {
  ASSERT_TRUE(commands_->Open(Matched("r-1")).ok());
  auto contact = [&](const std::string& request_id) {
    return commands_->Act("lw-1", "r-1", request_id,
                          [&](const LoadedCase& current, absl::Time now) {
                            v1::RecordContactRequest request;
                            request.set_link_worker_id("lw-1");
                            request.set_referral_id("r-1");
                            request.set_result(v1::CONTACT_RESULT_NO_ANSWER);
                            return workflow_->RecordContact(current, request, now);
                          });
  };
  ASSERT_TRUE(contact("call-1").ok());
  const int64_t outbox_after_first = OutboxLength();
  store_->commits = 0;
  auto retried = contact("call-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->contact_attempts(), 1);
  EXPECT_EQ(store_->commits, 0);
  EXPECT_EQ(OutboxLength(), outbox_after_first);
  auto second = contact("call-2");  // another call: another attempt
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->contact_attempts(), 2);
  EXPECT_THAT(second->applied_request_ids(), ::testing::ElementsAre("call-1", "call-2"));
  EXPECT_EQ(contact(std::string(65, 'x')).status().code(), absl::StatusCode::kInvalidArgument);

  v1::CompleteTaskRequest done;
  done.set_link_worker_id("lw-1");
  done.set_task_id("r-1/first-contact");
  done.set_request_id("done-1");
  ASSERT_TRUE(commands_->CompleteTask(done).ok());
  const int64_t outbox_after_done = OutboxLength();
  store_->commits = 0;
  auto again = commands_->CompleteTask(done);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->status(), v1::TASK_STATUS_DONE);
  EXPECT_EQ(store_->commits, 0);
  EXPECT_EQ(OutboxLength(), outbox_after_done);
  // Without an id a retry cannot be told from a second completion: refused, the task not open.
  done.clear_request_id();
  EXPECT_EQ(commands_->CompleteTask(done).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CaseCommandsTest, WithRedisGoneEveryMatchOfTheBatchIsUnavailableAndLaterOpensOnce) {
  std::vector<v1::Event> batch = {Matched("r-1"), Matched("r-2")};
  std::vector<const v1::Event*> pointers = {&batch[0], &batch[1]};
  server_.Stop();
  for (const auto& s : commands_->OpenMany(pointers)) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  }
  ASSERT_TRUE(server_.Start().ok());
  for (const auto& s : commands_->OpenMany(pointers)) EXPECT_TRUE(s.ok()) << s;
  for (const auto& s : commands_->OpenMany(pointers)) EXPECT_TRUE(s.ok()) << s;
  auto version = pool_->Execute({"HGET", "fu:case:r-2", "v"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->str, "1");
}

// A place is always there to take (the directory is not what these tests are about).
class AnyPlace final : public PlaceReserver {
 public:
  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string&, const std::string&,
                                                   const std::string&) override {
    return v1::ReservePlaceResponse();
  }
};

// Follow-up against a primary with a replica, wanting the replica to acknowledge every change.
class ReplicatedCaseCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(primary_.Start().ok());
    replica_ = std::make_unique<testing::RedisServer>(
        testing::RedisServerOptions{.replica_of = primary_.address()});
    ASSERT_TRUE(replica_->Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] {
      auto acked = primary_.Run({"WAIT", "1", "1000"});
      return acked.ok() && acked->integer == 1;
    }));
    redis::PoolOptions options;
    options.address = *ParseRedisAddress(primary_.address());
    options.replica_ack = {.replicas = 1, .timeout = absl::Milliseconds(300)};
    auto pool = redis::RedisPool::Create(options);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    redis_store_ = std::make_unique<RedisCaseStore>(*pool_, RedisKeys{}, "");
    workflow_ = std::make_unique<CaseWorkflow>(WorkflowOptions{});
    commands_ = std::make_unique<CaseCommands>(
        *redis_store_, *workflow_, &places_, [] { return kMonday; }, nullptr);
  }

  testing::RedisServer primary_;
  std::unique_ptr<testing::RedisServer> replica_;
  std::unique_ptr<redis::RedisPool> pool_;
  std::unique_ptr<RedisCaseStore> redis_store_;
  std::unique_ptr<CaseWorkflow> workflow_;
  AnyPlace places_;
  std::unique_ptr<CaseCommands> commands_;
};

// A connection whose commit no replica acknowledged is UNAVAILABLE; the caller's retry finds it
// recorded on the primary, and must not be told it is done until a replica holds it too (else a
// failover then loses a connection the caller was told about).
TEST_F(ReplicatedCaseCommandsTest, ARetryFindingAnUnacknowledgedConnectionWaitsForTheReplica) {
  v1::Event matched = Matched("r-1");
  auto* option = matched.mutable_referral_matched()->mutable_needs(0)->add_options();
  option->set_resource_id("res-1");
  option->set_resource_name("Walking group");
  ASSERT_TRUE(commands_->Open(matched).ok());
  auto engaged = commands_->Act("lw-1", "r-1", [](const LoadedCase& current, absl::Time) {
    CaseChange change;
    change.expected_version = current.kase.version();
    change.after = current.kase;
    change.after.set_version(change.expected_version + 1);
    change.after.set_state(v1::CASE_STATE_ENGAGED);
    return absl::StatusOr<CaseChange>(std::move(change));
  });
  ASSERT_TRUE(engaged.ok()) << engaged.status();

  v1::RecordConnectionRequest request;
  request.set_link_worker_id("lw-1");
  request.set_referral_id("r-1");
  request.set_resource_id("res-1");
  replica_->Suspend();
  auto first = commands_->RecordConnection(request, "");
  auto retried = commands_->RecordConnection(request, "");
  replica_->Resume();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  EXPECT_EQ(retried.status().code(), absl::StatusCode::kUnavailable) << retried.status();
  // With the replica back, the retry is answered with the case as the first call left it.
  absl::StatusOr<v1::Case> settled;
  EXPECT_TRUE(testing::WaitUntil([&] {
    settled = commands_->RecordConnection(request, "");
    return settled.ok();
  }));
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ(settled->state(), v1::CASE_STATE_CONNECTED);
  EXPECT_EQ(settled->connected_resource_ids_size(), 1);
}

// The same for an action retried with its request id.
TEST_F(ReplicatedCaseCommandsTest, ARetryByRequestIdOfAnUnacknowledgedActionWaitsForTheReplica) {
  ASSERT_TRUE(commands_->Open(Matched("r-2")).ok());
  auto contact = [&] {
    return commands_->Act("lw-1", "r-2", "call-1", [&](const LoadedCase& current, absl::Time now) {
      v1::RecordContactRequest request;
      request.set_link_worker_id("lw-1");
      request.set_referral_id("r-2");
      request.set_result(v1::CONTACT_RESULT_NO_ANSWER);
      return workflow_->RecordContact(current, request, now);
    });
  };
  replica_->Suspend();
  auto first = contact();
  auto retried = contact();
  replica_->Resume();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  EXPECT_EQ(retried.status().code(), absl::StatusCode::kUnavailable) << retried.status();
  absl::StatusOr<v1::Case> settled;
  EXPECT_TRUE(testing::WaitUntil([&] {
    settled = contact();
    return settled.ok();
  }));
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ(settled->contact_attempts(), 1);  // applied once, by the first try
}

// The same for a matched or withdrawn event delivered again after its commit was refused its
// replicas: the case found opened (or ended) is not taken as done, and the event not let go,
// until a replica holds it.
TEST_F(ReplicatedCaseCommandsTest,
       AnEventRedeliveredAfterAnUnacknowledgedCommitWaitsForTheReplica) {
  std::vector<v1::Event> batch = {Matched("r-3")};
  const std::vector<const v1::Event*> pointers = {&batch[0]};
  v1::Event withdrawn = Withdrawn("r-4");
  replica_->Suspend();
  const absl::Status opened = commands_->OpenMany(pointers).front();
  const absl::Status reopened = commands_->OpenMany(pointers).front();
  const absl::Status opened_alone = commands_->Open(batch[0]);
  const absl::Status withdrew = commands_->Withdraw(withdrawn);
  const absl::Status withdrew_again = commands_->Withdraw(withdrawn);
  replica_->Resume();
  EXPECT_EQ(opened.code(), absl::StatusCode::kUnavailable) << opened;
  EXPECT_EQ(reopened.code(), absl::StatusCode::kUnavailable) << reopened;
  EXPECT_EQ(opened_alone.code(), absl::StatusCode::kUnavailable) << opened_alone;
  EXPECT_EQ(withdrew.code(), absl::StatusCode::kUnavailable) << withdrew;
  EXPECT_EQ(withdrew_again.code(), absl::StatusCode::kUnavailable) << withdrew_again;
  EXPECT_TRUE(testing::WaitUntil([&] {
    return commands_->OpenMany(pointers).front().ok() && commands_->Withdraw(withdrawn).ok();
  }));
}

}  // namespace
}  // namespace signpost::followup
