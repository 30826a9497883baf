// The status view behind GetReferral, in a real redis-server: what a referral's lifecycle
// events leave in it, in any order and any number of times.
#include "services/intake/redis_status_store.h"

#include <gtest/gtest.h>

#include <algorithm>

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

  std::vector<std::string> Keys() {
    auto keys = pool_->Execute({"KEYS", "*"});
    EXPECT_TRUE(keys.ok()) << keys.status();
    std::vector<std::string> names;
    if (keys.ok()) {
      for (const auto& key : keys->elements) names.push_back(key.str);
    }
    std::sort(names.begin(), names.end());
    return names;
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

// The Task's owner and outputs: the link worker of the latest event, whatever order they come
// in, and each connection once however often its event is applied.
TEST_F(RedisStatusStoreTest, KeepsTheLatestLinkWorkerAndEachConnectionOnce) {
  StatusUpdate matched = Update("e-matched", v1::REFERRAL_STATE_MATCHED, 101);
  matched.link_worker_id = "lw-7";
  StatusUpdate reassigned = Update("e-reassigned", v1::REFERRAL_STATE_IN_CONTACT, 105);
  reassigned.link_worker_id = "lw-9";
  StatusUpdate connected = Update("e-connected", v1::REFERRAL_STATE_CONNECTED, 106);
  connected.link_worker_id = "lw-9";
  v1::ReferralConnection walk;
  walk.set_resource_id("res-walk");
  walk.set_resource_name("Walking Group");
  walk.mutable_at()->set_seconds(106);
  connected.connection = walk;
  StatusUpdate second = Update("e-connected-2", v1::REFERRAL_STATE_CONNECTED, 107);
  v1::ReferralConnection choir = walk;
  choir.set_resource_id("res-choir");
  choir.set_resource_name("Choir");
  choir.mutable_at()->set_seconds(107);
  second.connection = choir;

  // The reassignment lands before the match: the match does not take the case back.
  ASSERT_TRUE(store_->Apply("ref-1", Received("e-received", 100)).ok());
  EXPECT_EQ(Get("ref-1").link_worker_id(), "");
  ASSERT_TRUE(store_->Apply("ref-1", reassigned).ok());
  ASSERT_TRUE(store_->Apply("ref-1", matched).ok());
  EXPECT_EQ(Get("ref-1").link_worker_id(), "lw-9");
  ASSERT_TRUE(store_->Apply("ref-1", second).ok());
  ASSERT_TRUE(store_->Apply("ref-1", connected).ok());
  connected.change.set_event_id("e-connected-again");  // the same connection recorded again
  ASSERT_TRUE(store_->Apply("ref-1", connected).ok());

  v1::GetReferralResponse status = Get("ref-1");
  EXPECT_EQ(status.link_worker_id(), "lw-9");
  ASSERT_EQ(status.connections_size(), 2);
  EXPECT_EQ(status.connections(0).resource_id(), "res-walk");
  EXPECT_EQ(status.connections(0).resource_name(), "Walking Group");
  EXPECT_EQ(status.connections(1).resource_id(), "res-choir");
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

// The Task's lastModified is the latest change's time: an older event read after a newer one
// (the lifecycle topics are read side by side) does not take it back.
TEST_F(RedisStatusStoreTest, TheLastUpdateIsTheLatestWhateverTheOrder) {
  ASSERT_TRUE(store_
                  ->ApplyMany({{"ref-7", Received("e-received", 100)},
                               {"ref-7", Update("e-contact", v1::REFERRAL_STATE_IN_CONTACT, 250)},
                               {"ref-7", Update("e-assigned", v1::REFERRAL_STATE_ASSIGNED, 200)}})
                  .ok());
  v1::GetReferralResponse status = Get("ref-7");
  EXPECT_EQ(status.state(), v1::REFERRAL_STATE_IN_CONTACT);
  EXPECT_EQ(status.updated_at().seconds(), 250);
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
                               {"ref-4", Update("e-assigned", v1::REFERRAL_STATE_ASSIGNED, 102)},
                               {"ref-4", Update("e-closed", v1::REFERRAL_STATE_CLOSED, 103)}})
                  .ok());
  // Beside it, once closed, one entry in the index every final referral's expiry is in.
  EXPECT_EQ(Keys(), (std::vector<std::string>{"signpost:intake:status-expiry",
                                              "signpost:intake:status:ref-4"}));
  auto indexed = pool_->Execute({"ZCARD", "signpost:intake:status-expiry"});
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  EXPECT_EQ(indexed->integer, 1);
  EXPECT_EQ(Get("ref-4").history_size(), 4);
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

namespace signpost::intake {
namespace {

// A store whose clock the test moves, as --clock-offset-file moves the service's: Redis's own
// clock (and so a Redis TTL) cannot be moved, so expiry is by this clock.
class ExpiringStatusStoreTest : public RedisStatusStoreTest {
 protected:
  static constexpr absl::Duration kRetention = absl::Hours(24 * 180);
  static constexpr absl::Duration kTombstone = absl::Hours(24 * 365);

  void SetUp() override {
    RedisStatusStoreTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisStatusStore>(
        *pool_, StatusRetention{.status = kRetention, .tombstone = kTombstone, .clock = [this] {
                                  return now_;
                                }});
  }

  bool Held(const std::string& id) {
    auto got = store_->Get(id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() && got->has_value();
  }
  std::optional<ReleasedStatus> Released(const std::string& id) {
    auto got = store_->Released(id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::nullopt;
  }
  int64_t Sweep() {
    auto swept = store_->ExpireDue(500);
    EXPECT_TRUE(swept.ok()) << swept.status();
    return swept.ok() ? *swept : -1;
  }

  // A referral received and then closed: its view is in a final state.
  void ApplyClosed(const std::string& id) {
    ASSERT_TRUE(store_->Apply(id, Received("e-received-" + id, 100)).ok());
    ASSERT_TRUE(store_->Apply(id, Update("e-closed-" + id, v1::REFERRAL_STATE_CLOSED, 200)).ok());
  }

  absl::Time now_ = absl::FromUnixSeconds(1'750'000'000);
};

TEST_F(ExpiringStatusStoreTest, AViewExpiresAfterItsFinalChangeAndLeavesATombstoneThenNothing) {
  const absl::Time changed = now_;
  ApplyClosed("ref-old");
  now_ = changed + kRetention - absl::Milliseconds(1);
  EXPECT_EQ(Sweep(), 0);
  EXPECT_TRUE(Held("ref-old"));
  EXPECT_FALSE(Released("ref-old").has_value());

  // Due: no longer held even before a sweep has removed it.
  now_ = changed + kRetention;
  EXPECT_FALSE(Held("ref-old"));
  ASSERT_TRUE(Released("ref-old").has_value());
  EXPECT_EQ(Released("ref-old")->referrer_ods_code, "B81010");
  EXPECT_EQ(Released("ref-old")->expired_at, changed + kRetention);

  // Swept: only the tombstone is left, and it says the same.
  EXPECT_EQ(Sweep(), 1);
  auto tombstone = pool_->Execute({"HGETALL", "signpost:intake:status:ref-old"});
  ASSERT_TRUE(tombstone.ok());
  EXPECT_EQ(tombstone->elements.size(), 4u);  // gone, ods
  EXPECT_FALSE(Held("ref-old"));
  ASSERT_TRUE(Released("ref-old").has_value());
  EXPECT_EQ(Released("ref-old")->referrer_ods_code, "B81010");
  EXPECT_EQ(Released("ref-old")->expired_at, changed + kRetention);
  EXPECT_FALSE(Released("ref-never-seen").has_value());

  // The tombstone goes in its turn: the id is then as unknown as one never seen.
  now_ = changed + kRetention + kTombstone - absl::Milliseconds(1);
  EXPECT_EQ(Sweep(), 0);
  EXPECT_TRUE(Released("ref-old").has_value());
  now_ = changed + kRetention + kTombstone;
  EXPECT_EQ(Sweep(), 1);
  EXPECT_FALSE(Released("ref-old").has_value());
  EXPECT_TRUE(Keys().empty());
}

// A referral still open (connected, its case idle past its check-ins) keeps its view however long
// it goes unchanged: its closure, whenever it comes, is then shown, and expiry counts from it.
TEST_F(ExpiringStatusStoreTest, AnOpenViewNeverExpiresAndExpiresFromItsClosure) {
  ASSERT_TRUE(store_->Apply("ref-open", Received("e-received", 100)).ok());
  ASSERT_TRUE(
      store_->Apply("ref-open", Update("e-connected", v1::REFERRAL_STATE_CONNECTED, 101)).ok());
  now_ += kRetention * 3;
  EXPECT_EQ(Sweep(), 0);
  EXPECT_TRUE(Held("ref-open"));
  EXPECT_FALSE(Released("ref-open").has_value());

  const absl::Time closed = now_;
  ASSERT_TRUE(store_->Apply("ref-open", Update("e-closed", v1::REFERRAL_STATE_CLOSED, 300)).ok());
  EXPECT_EQ(Get("ref-open").state(), v1::REFERRAL_STATE_CLOSED);
  // An event after the final one (another topic, late) does not move the expiry on.
  now_ = closed + kRetention - absl::Hours(1);
  ASSERT_TRUE(
      store_->Apply("ref-open", Update("e-in-contact", v1::REFERRAL_STATE_IN_CONTACT, 102)).ok());
  EXPECT_EQ(Sweep(), 0);
  EXPECT_TRUE(Held("ref-open"));
  now_ = closed + kRetention;
  EXPECT_EQ(Sweep(), 1);
  ASSERT_TRUE(Released("ref-open").has_value());
  EXPECT_EQ(Released("ref-open")->expired_at, closed + kRetention);
}

TEST_F(ExpiringStatusStoreTest, WithdrawnAndRejectedViewsExpireToo) {
  ASSERT_TRUE(store_->Apply("ref-w", Received("e-received-w", 100)).ok());
  ASSERT_TRUE(
      store_->Apply("ref-w", Update("e-withdrawn", v1::REFERRAL_STATE_WITHDRAWN, 101)).ok());
  ASSERT_TRUE(store_->Apply("ref-r", Update("e-rejected", v1::REFERRAL_STATE_REJECTED, 100)).ok());
  now_ += kRetention;
  EXPECT_EQ(Sweep(), 2);
  EXPECT_TRUE(Released("ref-w").has_value());
  EXPECT_TRUE(Released("ref-r").has_value());
}

TEST_F(ExpiringStatusStoreTest, TheOlderLayoutsKeysGoWithTheView) {
  ASSERT_TRUE(pool_
                  ->Pipeline({{"RPUSH", "signpost:intake:history:ref-5", "x"},
                              {"SADD", "signpost:intake:events:ref-5", "e-legacy"}})
                  .ok());
  ApplyClosed("ref-5");
  now_ += kRetention;
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"signpost:intake:status-expiry",
                                              "signpost:intake:status:ref-5"}));
}

TEST_F(ExpiringStatusStoreTest, AnEventReadAgainAfterExpiryDoesNotBringBackAPartialView) {
  ASSERT_TRUE(store_->Apply("ref-6", Received("e-received", 100)).ok());
  ASSERT_TRUE(
      store_->Apply("ref-6", Update("e-withdrawn", v1::REFERRAL_STATE_WITHDRAWN, 200)).ok());
  now_ += kRetention;
  EXPECT_EQ(Sweep(), 1);
  ASSERT_TRUE(store_->Apply("ref-6", Update("e-closed", v1::REFERRAL_STATE_CLOSED, 300)).ok());
  EXPECT_FALSE(Held("ref-6"));
  EXPECT_TRUE(Released("ref-6").has_value());
}

TEST_F(ExpiringStatusStoreTest, ASweepTakesTheDueInBatches) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_
                    ->Apply("ref-b" + std::to_string(i),
                            Update("e-" + std::to_string(i), v1::REFERRAL_STATE_CLOSED, 100))
                    .ok());
  }
  now_ += kRetention;
  auto first = store_->ExpireDue(5);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 5);
  auto second = store_->ExpireDue(5);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, 2);
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(Held("ref-b" + std::to_string(i)));
}

TEST_F(ExpiringStatusStoreTest, AFinalViewWrittenBeforeExpiryExistedIsIndexedFromItsLastChange) {
  const absl::Time changed = now_ - absl::Hours(24 * 10);
  ASSERT_TRUE(pool_
                  ->Execute({"HSET", "signpost:intake:status:ref-older", "state", "7", "updated_ms",
                             std::to_string(absl::ToUnixMillis(changed)), "ods", "B81010"})
                  .ok());
  // An open view is not indexed; one the former rule (every view, open or not) indexed is taken
  // out of the index.
  ASSERT_TRUE(pool_
                  ->Pipeline({{"HSET", "signpost:intake:status:ref-older-open", "state", "6",
                               "updated_ms", std::to_string(absl::ToUnixMillis(changed))},
                              {"HSET", "signpost:intake:status:ref-indexed-open", "state", "4",
                               "updated_ms", std::to_string(absl::ToUnixMillis(changed))},
                              {"ZADD", "signpost:intake:status-expiry",
                               std::to_string(absl::ToUnixMillis(changed + kRetention)),
                               "ref-indexed-open"}})
                  .ok());
  ApplyClosed("ref-new");
  std::string cursor = "0";
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    auto scanned = store_->IndexOlderViews(cursor, 1);
    ASSERT_TRUE(scanned.ok()) << scanned.status();
    done = *scanned;
  }
  ASSERT_TRUE(done);
  auto score = pool_->Execute({"ZSCORE", "signpost:intake:status-expiry", "ref-older"});
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->str, std::to_string(absl::ToUnixMillis(changed + kRetention)));
  // The view indexed already keeps its own expiry.
  auto kept = pool_->Execute({"ZSCORE", "signpost:intake:status-expiry", "ref-new"});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->str, std::to_string(absl::ToUnixMillis(now_ + kRetention)));
  now_ = changed + kRetention;
  EXPECT_EQ(Sweep(), 1);
  EXPECT_TRUE(Released("ref-older").has_value());
  auto open = pool_->Pipeline({{"ZSCORE", "signpost:intake:status-expiry", "ref-older-open"},
                               {"ZSCORE", "signpost:intake:status-expiry", "ref-indexed-open"}});
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE((*open)[0].is_nil());
  EXPECT_TRUE((*open)[1].is_nil());
  now_ += kRetention * 3;
  EXPECT_EQ(Sweep(), 2);  // ref-new, and ref-older's tombstone
  EXPECT_TRUE(Held("ref-older-open"));
  EXPECT_TRUE(Held("ref-indexed-open"));
}

}  // namespace
}  // namespace signpost::intake
