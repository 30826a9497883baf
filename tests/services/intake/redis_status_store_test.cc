// The status view behind GetReferral, in a real redis-server: what a referral's lifecycle
// events leave in it, in any order and any number of times.
#include "services/intake/redis_status_store.h"

#include <gtest/gtest.h>

#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::intake {
namespace {

StatusUpdate Update(const std::string& event_id, v1::ReferralState state, int64_t at_seconds) {
  StatusUpdate u;
  u.change.set_event_id(event_id);
  u.change.set_state(state);
  u.change.set_event_type(v1::ReferralState_Name(state));
  u.change.mutable_at()->set_seconds(at_seconds);
  u.change.mutable_at()->set_nanos(250'000'000);
  return u;
}

StatusUpdate Received(const std::string& event_id, int64_t at_seconds) {
  StatusUpdate u = Update(event_id, v1::REFERRAL_STATE_RECEIVED, at_seconds);
  u.source.set_source_system("emis-web");
  u.source.set_source_referral_id("EMIS-0042");
  u.referrer_ods_code = "B81010";
  u.priority = v1::URGENCY_PRIORITY;
  return u;
}

class RedisStatusStoreTest : public testing::RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisStatusStore>(*pool_);
  }

  v1::GetReferralResponse Get(const std::string& id) {
    auto got = store_->Get(id);
    EXPECT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got.ok() && got->has_value()) << "no status for " << id;
    return got.ok() && got->has_value() ? **got : v1::GetReferralResponse();
  }

  std::unique_ptr<RedisStatusStore> store_;
};

TEST_F(RedisStatusStoreTest, KeepsTheAttributesOfTheFirstEventAndTheStateOfTheFurthest) {
  ASSERT_TRUE(store_->Apply("ref-1", Received("e-received", 100)).ok());
  // A later event carries no attributes: those already known stay.
  ASSERT_TRUE(store_->Apply("ref-1", Update("e-matched", v1::REFERRAL_STATE_MATCHED, 101)).ok());

  v1::GetReferralResponse status = Get("ref-1");
  EXPECT_EQ(status.referral_id(), "ref-1");
  EXPECT_EQ(status.state(), v1::REFERRAL_STATE_MATCHED);
  EXPECT_EQ(status.source().source_system(), "emis-web");
  EXPECT_EQ(status.source().source_referral_id(), "EMIS-0042");
  EXPECT_EQ(status.referrer_ods_code(), "B81010");
  EXPECT_EQ(status.priority(), v1::URGENCY_PRIORITY);
  EXPECT_EQ(status.closure_reason(), v1::CLOSURE_REASON_UNSPECIFIED);
  EXPECT_EQ(status.updated_at().seconds(), 101);
  EXPECT_EQ(status.updated_at().nanos(), 250'000'000);
  ASSERT_EQ(status.history_size(), 2);
  EXPECT_EQ(status.history(0).event_id(), "e-received");
  EXPECT_EQ(status.history(1).event_id(), "e-matched");
}

// Matching raises the priority of a referral intake triaged as routine (a Core20 decile derived
// from its postcode); the received event, applied before or after, does not lower it again.
TEST_F(RedisStatusStoreTest, APriorityRaisedByMatchingHoldsWhateverTheOrder) {
  StatusUpdate received = Received("e-received", 100);
  received.priority = v1::URGENCY_ROUTINE;
  StatusUpdate matched = Update("e-matched", v1::REFERRAL_STATE_MATCHED, 101);
  matched.raised_priority = v1::URGENCY_PRIORITY;

  ASSERT_TRUE(store_->Apply("ref-late", received).ok());
  EXPECT_EQ(Get("ref-late").priority(), v1::URGENCY_ROUTINE);
  ASSERT_TRUE(store_->Apply("ref-late", matched).ok());
  EXPECT_EQ(Get("ref-late").priority(), v1::URGENCY_PRIORITY);

  ASSERT_TRUE(store_->Apply("ref-early", matched).ok());
  ASSERT_TRUE(store_->Apply("ref-early", received).ok());
  EXPECT_EQ(Get("ref-early").priority(), v1::URGENCY_PRIORITY);
  EXPECT_EQ(Get("ref-early").source().source_referral_id(), "EMIS-0042");
}

TEST_F(RedisStatusStoreTest, OutOfOrderAndRepeatedEventsNeverMoveBackNorRepeatHistory) {
  StatusUpdate closed = Update("e-closed", v1::REFERRAL_STATE_CLOSED, 300);
  closed.closure_reason = v1::CLOSURE_REASON_COMPLETED;
  ASSERT_TRUE(store_
                  ->ApplyMany({{"ref-2", Update("e-assigned", v1::REFERRAL_STATE_ASSIGNED, 200)},
                               {"ref-2", Received("e-received", 100)},
                               {"ref-2", closed},
                               {"ref-2", Update("e-contact", v1::REFERRAL_STATE_IN_CONTACT, 250)},
                               {"ref-2", Received("e-received", 100)}})
                  .ok());
  // Delivered again after a restart: nothing changes.
  ASSERT_TRUE(store_->Apply("ref-2", Update("e-assigned", v1::REFERRAL_STATE_ASSIGNED, 200)).ok());

  v1::GetReferralResponse status = Get("ref-2");
  EXPECT_EQ(status.state(), v1::REFERRAL_STATE_CLOSED);  // closed sticks
  EXPECT_EQ(status.closure_reason(), v1::CLOSURE_REASON_COMPLETED);
  EXPECT_EQ(status.referrer_ods_code(), "B81010");
  std::vector<std::string> history;
  for (const auto& change : status.history()) history.push_back(change.event_id());
  EXPECT_EQ(history,
            (std::vector<std::string>{"e-received", "e-assigned", "e-contact", "e-closed"}));
}

TEST_F(RedisStatusStoreTest, AnUnknownReferralHasNoStatus) {
  ASSERT_TRUE(store_->Apply("ref-3", Received("e-received", 100)).ok());
  auto got = store_->Get("ref-unknown");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
}

TEST_F(RedisStatusStoreTest, AReferralIsOneKeyWhateverItsHistory) {
  // Every key and every write is paid for again in the append-only file and its rewrites.
  ASSERT_TRUE(store_
                  ->ApplyMany({{"ref-4", Received("e-received", 100)},
                               {"ref-4", Update("e-matched", v1::REFERRAL_STATE_MATCHED, 101)},
                               {"ref-4", Update("e-assigned", v1::REFERRAL_STATE_ASSIGNED, 102)}})
                  .ok());
  auto keys = pool_->Execute({"KEYS", "*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0].str, "signpost:intake:status:ref-4");
  EXPECT_EQ(Get("ref-4").history_size(), 3);
}

TEST_F(RedisStatusStoreTest, AReferralRecordedInTheOlderLayoutKeepsItsHistory) {
  // Written as the store did before the history moved into the status hash.
  v1::StateChange received;
  received.set_event_id("e-received");
  received.set_state(v1::REFERRAL_STATE_RECEIVED);
  received.mutable_at()->set_seconds(100);
  ASSERT_TRUE(
      pool_
          ->Pipeline({{"HSET", "signpost:intake:status:ref-5", "state", "1", "updated_ms", "100000",
                       "ods", "B81010"},
                      {"RPUSH", "signpost:intake:history:ref-5", received.SerializeAsString()},
                      {"SADD", "signpost:intake:events:ref-5", "e-received"}})
          .ok());
  // The same event delivered again is not recorded twice; a new one joins the history.
  ASSERT_TRUE(store_->Apply("ref-5", Received("e-received", 100)).ok());
  ASSERT_TRUE(store_->Apply("ref-5", Update("e-matched", v1::REFERRAL_STATE_MATCHED, 101)).ok());

  v1::GetReferralResponse status = Get("ref-5");
  EXPECT_EQ(status.state(), v1::REFERRAL_STATE_MATCHED);
  EXPECT_EQ(status.referrer_ods_code(), "B81010");
  std::vector<std::string> history;
  for (const auto& change : status.history()) history.push_back(change.event_id());
  EXPECT_EQ(history, (std::vector<std::string>{"e-received", "e-matched"}));
}

}  // namespace
}  // namespace signpost::intake
