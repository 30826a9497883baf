// Issue 24, bounded growth: an ended case leaves Redis --closed-case-retention-days after it
// ended, with every key it had (its tasks; its timers and open-set entries went when it ended),
// by the service's clock (Redis's own cannot be moved, so this is a sweep, not a TTL); GetCase then
// says it is no longer held, distinct from NOT_FOUND, and its events read again do not open it
// anew; after the tombstone time the id is forgotten. Against a real redis-server.
#include "services/followup/case_retirement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "services/followup/case_commands.h"
#include "services/followup/redis_case_store.h"
#include "tests/services/followup/batch_events.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::followup {
namespace {

using batch_events::kMonday;
using batch_events::Matched;
using batch_events::Withdrawn;
using ::testing::HasSubstr;

constexpr absl::Duration kRetention = absl::Hours(24 * 30);
constexpr absl::Duration kTombstone = absl::Hours(24 * 365);

class CaseRetirementTest : public testing::RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    CaseRetention retention{
        .closed = kRetention, .tombstone = kTombstone, .clock = [this] { return now_; }};
    store_ = std::make_unique<RedisCaseStore>(*pool_, RedisKeys{}, "", 10000, retention);
    workflow_ = std::make_unique<CaseWorkflow>(WorkflowOptions{});
    commands_ = std::make_unique<CaseCommands>(
        *store_, *workflow_, nullptr, [this] { return now_; }, nullptr);
    retirement_ = std::make_unique<CaseRetirement>(*pool_, RedisKeys{}, retention);
    commands_->set_retirement(retirement_.get());
  }

  std::vector<std::string> Keys(const std::string& pattern) {
    auto keys = pool_->Execute({"KEYS", pattern});
    EXPECT_TRUE(keys.ok()) << keys.status();
    std::vector<std::string> names;
    if (keys.ok()) {
      for (const auto& key : keys->elements) names.push_back(key.str);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // Every member of every sorted set (open sets, timers) that names the referral.
  std::vector<std::string> IndexEntriesOf(const std::string& rid) {
    std::vector<std::string> found;
    for (const std::string& set : Keys("fu:open:*")) {
      auto members = pool_->Execute({"ZRANGE", set, "0", "-1"});
      for (const auto& m : members->elements) {
        if (m.str.rfind(rid + "/", 0) == 0) found.push_back(set + " " + m.str);
      }
    }
    auto timers = pool_->Execute({"ZRANGE", "fu:timers", "0", "-1"});
    for (const auto& m : timers->elements) {
      if (m.str.rfind(rid + "/", 0) == 0) found.push_back("fu:timers " + m.str);
    }
    return found;
  }
  int64_t Retire() {
    auto handled = retirement_->RetireDue(500);
    EXPECT_TRUE(handled.ok()) << handled.status();
    return handled.ok() ? *handled : -1;
  }

  absl::Time now_ = kMonday;
  std::unique_ptr<RedisCaseStore> store_;
  std::unique_ptr<CaseWorkflow> workflow_;
  std::unique_ptr<CaseCommands> commands_;
  std::unique_ptr<CaseRetirement> retirement_;
};

TEST_F(CaseRetirementTest, AnEndedCaseLeavesWithEveryKeyItHadThenItsTombstoneGoes) {
  ASSERT_TRUE(commands_->Open(Matched("ref-ended")).ok());
  ASSERT_TRUE(commands_->Open(Matched("ref-open")).ok());
  ASSERT_FALSE(Keys("fu:task:ref-ended/*").empty());
  ASSERT_FALSE(IndexEntriesOf("ref-open").empty());
  const std::vector<std::string> open_keys = Keys("fu:*ref-open*");

  const absl::Time ended = now_ + absl::Hours(1);
  now_ = ended;
  ASSERT_TRUE(commands_->Withdraw(Withdrawn("ref-ended")).ok());
  EXPECT_TRUE(IndexEntriesOf("ref-ended").empty());  // its tasks ended, its timers cancelled

  now_ = ended + kRetention - absl::Milliseconds(1);
  EXPECT_EQ(Retire(), 0);
  EXPECT_TRUE(commands_->GetCase("lw-1", "ref-ended").ok());

  now_ = ended + kRetention;
  EXPECT_EQ(Retire(), 1);
  EXPECT_TRUE(Keys("fu:*ref-ended*").empty());
  // The open case is untouched, and its queue lists it alone.
  EXPECT_EQ(Keys("fu:*ref-open*"), open_keys);
  auto snapshot = store_->Snapshot("lw-1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->tasks.size(), 1u);
  EXPECT_EQ(snapshot->tasks[0].referral_id(), "ref-open");

  auto gone = commands_->GetCase("lw-1", "ref-ended");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition) << gone.status();
  EXPECT_THAT(gone.status().message(),
              HasSubstr("case of referral ref-ended is no longer held: a case leaves follow-up "
                        "30 days after it ended"));
  EXPECT_EQ(commands_->GetCase("lw-1", "ref-never-seen").status().code(),
            absl::StatusCode::kNotFound);

  // Its events read again (a topic replayed) do not open it anew.
  EXPECT_TRUE(commands_->Open(Matched("ref-ended")).ok());
  v1::Event again = Matched("ref-ended");
  for (const absl::Status& s : commands_->OpenMany({&again})) EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(commands_->Withdraw(Withdrawn("ref-ended")).ok());
  EXPECT_TRUE(Keys("fu:*ref-ended*").empty());

  now_ = ended + kRetention + kTombstone;
  EXPECT_EQ(Retire(), 1);
  EXPECT_EQ(commands_->GetCase("lw-1", "ref-ended").status().code(), absl::StatusCode::kNotFound);
  auto left = pool_->Execute({"ZCARD", "fu:retention"});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 0);
}

TEST_F(CaseRetirementTest, AnOpenCaseNeverLeaves) {
  ASSERT_TRUE(commands_->Open(Matched("ref-long")).ok());
  now_ += 10 * (kRetention + kTombstone);
  EXPECT_EQ(Retire(), 0);
  EXPECT_TRUE(commands_->GetCase("lw-1", "ref-long").ok());
}

TEST_F(CaseRetirementTest, ACaseWrittenBeforeCasesCouldLeaveIsIndexedAndLeavesToo) {
  ASSERT_TRUE(commands_->Open(Matched("ref-older")).ok());
  ASSERT_TRUE(commands_->Open(Matched("ref-open")).ok());
  const absl::Time ended = now_ + absl::Hours(1);
  now_ = ended;
  ASSERT_TRUE(commands_->Withdraw(Withdrawn("ref-older")).ok());
  // As the store wrote it before: no retention entry, its tasks not named in it.
  ASSERT_TRUE(pool_->Execute({"DEL", "fu:retention"}).ok());
  auto fields = pool_->Execute({"HKEYS", "fu:case:ref-older"});
  ASSERT_TRUE(fields.ok());
  for (const auto& f : fields->elements) {
    if (f.str.rfind("t:", 0) == 0) {
      ASSERT_TRUE(pool_->Execute({"HDEL", "fu:case:ref-older", f.str}).ok());
    }
  }
  ASSERT_FALSE(Keys("fu:task:ref-older/*").empty());

  std::string cursor = "0";
  bool tasks = false;
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    auto step = retirement_->IndexOlderCases(cursor, tasks, 2);
    ASSERT_TRUE(step.ok()) << step.status();
    done = *step;
  }
  ASSERT_TRUE(done);
  now_ = ended + kRetention;
  EXPECT_EQ(Retire(), 1);
  EXPECT_TRUE(Keys("fu:*ref-older*").empty());
  EXPECT_FALSE(Keys("fu:*ref-open*").empty());
  EXPECT_EQ(commands_->GetCase("lw-1", "ref-older").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace signpost::followup
