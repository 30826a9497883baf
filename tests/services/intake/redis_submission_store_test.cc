// The submission store's claim in a real redis-server: the same content is recognised by the
// fingerprint intake records now or by the one an earlier intake recorded, and an attempt that
// finds another holding the submission learns until when.
#include "services/intake/redis_submission_store.h"

#include <gtest/gtest.h>

#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::intake {
namespace {

class RedisSubmissionStoreTest : public testing::RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisSubmissionStore>(*pool_, absl::Hours(24));
  }

  // A claim proposing no event (the attempt records one with RecordEvent).
  absl::StatusOr<Claim> TryClaim(const Fingerprint& fingerprint, const std::string& owner) {
    return store_->TryClaim(key_, fingerprint, {"ref-new", ""}, owner, now_, absl::Seconds(30));
  }

  std::unique_ptr<RedisSubmissionStore> store_;
  const SubmissionKey key_{"emis-leeds-north", "EMIS-1"};
  const absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(RedisSubmissionStoreTest, AnotherAttemptsHoldIsReportedWithItsEnd) {
  auto first = TryClaim({"fp-sent", {"fp-old"}}, "attempt-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, Claim::Kind::kClaimed);
  auto second = TryClaim({"fp-sent", {"fp-old"}}, "attempt-2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kind, Claim::Kind::kInProgress);
  EXPECT_EQ(second->referral_id, "ref-new");
  EXPECT_EQ(second->held_until, now_ + absl::Seconds(30));
  ASSERT_TRUE(store_->MarkPublished(key_, "attempt-1").ok());
  EXPECT_EQ(TryClaim({"fp-sent", {"fp-old"}}, "attempt-3")->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(TryClaim({"fp-changed", {"fp-changed-old"}}, "attempt-4")->kind,
            Claim::Kind::kConflict);
}

TEST_F(RedisSubmissionStoreTest, ARecordWithTheEarlierFingerprintIsTheSameContentFromThenOn) {
  // As an intake before the fix recorded it: the fingerprint of the normalised referral.
  ASSERT_TRUE(pool_
                  ->Execute({"HSET", RedisSubmissionStore::RedisKey(key_), "fp", "fp-old", "rid",
                             "ref-earlier", "state", "published", "owner", "x", "lease_until", "0"})
                  .ok());
  auto again = TryClaim({"fp-sent", {"fp-old"}}, "attempt-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(again->referral_id, "ref-earlier");
  // After a birthday the earlier fingerprint no longer matches; the one recorded now does.
  auto later = TryClaim({"fp-sent", {"fp-old-a-year-on"}}, "attempt-2");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(TryClaim({"fp-other", {}}, "attempt-3")->kind, Claim::Kind::kConflict);
}

// The earlier intake put the age on the day into its fingerprint: a record it made before a
// birthday matches one of the earlier fingerprints given (the younger age), not the first.
TEST_F(RedisSubmissionStoreTest, ARecordMatchingAnyOfTheEarlierFingerprintsIsTheSameContent) {
  ASSERT_TRUE(
      pool_
          ->Execute({"HSET", RedisSubmissionStore::RedisKey(key_), "fp", "fp-old-aged-78", "rid",
                     "ref-earlier", "state", "published", "owner", "x", "lease_until", "0"})
          .ok());
  auto again = TryClaim({"fp-sent", {"fp-old-aged-79", "fp-old-aged-78"}}, "attempt-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(again->referral_id, "ref-earlier");
  EXPECT_EQ(TryClaim({"fp-sent", {}}, "attempt-2")->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(TryClaim({"fp-other", {"fp-old-aged-78"}}, "attempt-3")->kind, Claim::Kind::kConflict);
}

// Issue 22: an event id names one content. The first event recorded for a submission is the one
// every attempt publishes, whoever takes the submission over after a failed send or a dead
// attempt; once published it is forgotten (a resubmission is a duplicate, nothing is resent).
TEST_F(RedisSubmissionStoreTest, TheFirstRecordedEventIsTheOneEveryAttemptPublishes) {
  const Fingerprint fingerprint{"fp-sent", {"fp-old"}};
  auto first = TryClaim(fingerprint, "attempt-1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(first->recorded_event, "");
  auto recorded = store_->RecordEvent(key_, "ref-new", "event-bytes-1");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(*recorded, "event-bytes-1");
  // Another attempt that built its own meanwhile publishes the first.
  EXPECT_EQ(*store_->RecordEvent(key_, "ref-new", "event-bytes-2"), "event-bytes-1");

  // The send failed (or timed out): released, and the retry takes the recorded event.
  ASSERT_TRUE(store_->Release(key_, "attempt-1").ok());
  auto retry = TryClaim(fingerprint, "attempt-2");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(retry->referral_id, "ref-new");
  EXPECT_EQ(retry->recorded_event, "event-bytes-1");
  // A dead attempt's lease runs out: taken over with the same event.
  auto taken_over = store_->TryClaim(key_, fingerprint, {"ref-other", "event-bytes-other"},
                                     "attempt-3", now_ + absl::Seconds(31), absl::Seconds(30));
  ASSERT_TRUE(taken_over.ok()) << taken_over.status();
  EXPECT_EQ(taken_over->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(taken_over->recorded_event, "event-bytes-1");
  EXPECT_FALSE(taken_over->proposal_taken);

  // Only under the submission's own referral id.
  EXPECT_EQ(store_->RecordEvent(key_, "ref-other", "event-bytes-3").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      store_->RecordEvent({"emis-leeds-north", "EMIS-unknown"}, "ref-new", "x").status().code(),
      absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(store_->MarkPublished(key_, "attempt-3").ok());
  auto field = pool_->Execute({"HEXISTS", RedisSubmissionStore::RedisKey(key_), "event"});
  ASSERT_TRUE(field.ok()) << field.status();
  EXPECT_EQ(field->integer, 0) << "a published submission's event is kept";
  auto after = store_->RecordEvent(key_, "ref-new", "event-bytes-4");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->has_value()) << "published already: nothing is to be sent";
  EXPECT_EQ(TryClaim(fingerprint, "attempt-4")->kind, Claim::Kind::kDuplicate);
}

// Issue 26: a submission seen first is claimed and its event recorded in one round trip; a later
// attempt's proposal is never recorded over it, whether it finds the first still publishing, takes
// it over after its lease ran out, or finds it published.
TEST_F(RedisSubmissionStoreTest, AFirstClaimRecordsItsProposedEventAndNoLaterOneDoes) {
  const Fingerprint fingerprint{"fp-sent", {}};
  auto first = store_->TryClaim(key_, fingerprint, {"ref-first", "event-bytes-first"}, "attempt-1",
                                now_, absl::Seconds(30));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(first->referral_id, "ref-first");
  EXPECT_TRUE(first->proposal_taken);
  EXPECT_EQ(first->recorded_event, "") << "the proposer has its event; nothing is sent back";
  auto field = pool_->Execute({"HGET", RedisSubmissionStore::RedisKey(key_), "event"});
  ASSERT_TRUE(field.ok()) << field.status();
  EXPECT_EQ(field->str, "event-bytes-first");

  auto racing = store_->TryClaim(key_, fingerprint, {"ref-second", "event-bytes-second"},
                                 "attempt-2", now_, absl::Seconds(30));
  ASSERT_TRUE(racing.ok()) << racing.status();
  EXPECT_EQ(racing->kind, Claim::Kind::kInProgress);
  EXPECT_EQ(racing->referral_id, "ref-first");
  EXPECT_FALSE(racing->proposal_taken);

  auto taken_over = store_->TryClaim(key_, fingerprint, {"ref-third", "event-bytes-third"},
                                     "attempt-3", now_ + absl::Seconds(31), absl::Seconds(30));
  ASSERT_TRUE(taken_over.ok()) << taken_over.status();
  EXPECT_EQ(taken_over->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(taken_over->referral_id, "ref-first");
  EXPECT_FALSE(taken_over->proposal_taken);
  EXPECT_EQ(taken_over->recorded_event, "event-bytes-first");

  ASSERT_TRUE(store_->MarkPublished(key_, "attempt-3").ok());
  auto after = store_->TryClaim(key_, fingerprint, {"ref-fourth", "event-bytes-fourth"},
                                "attempt-4", now_ + absl::Seconds(32), absl::Seconds(30));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(after->referral_id, "ref-first");
  auto gone = pool_->Execute({"HEXISTS", RedisSubmissionStore::RedisKey(key_), "event"});
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->integer, 0) << "a duplicate's proposal was recorded";
}

// Issue 26: concurrent submissions are claimed in one round trip. Each claim in it is answered
// on its own and in order, as it would be alone: claims of the same submission in one pipeline
// run one after the other, so the first takes it and the second finds it held.
TEST_F(RedisSubmissionStoreTest, ClaimsSentTogetherAreEachAnsweredAsAlone) {
  const SubmissionKey published{"emis-leeds-north", "EMIS-published"};
  auto first = store_->TryClaim(published, {"fp-p", {}}, {"ref-p", "event-p"}, "attempt-p", now_,
                                absl::Seconds(30));
  ASSERT_TRUE(first.ok() && first->kind == Claim::Kind::kClaimed);
  ASSERT_TRUE(store_->MarkPublished(published, "attempt-p").ok());

  const SubmissionKey fresh{"emis-leeds-north", "EMIS-fresh"};
  const Fingerprint fp_fresh{"fp-fresh", {}}, fp_p{"fp-p", {}}, fp_changed{"fp-changed", {}};
  const Proposal a{"ref-a", "event-a"}, b{"ref-b", "event-b"}, c{"ref-c", ""}, d{"ref-d", ""};
  const std::string owner_a = "attempt-a", owner_b = "attempt-b", owner_c = "attempt-c",
                    owner_d = "attempt-d";
  auto claims = store_->TryClaimMany({{fresh, fp_fresh, a, owner_a},
                                      {fresh, fp_fresh, b, owner_b},
                                      {published, fp_p, c, owner_c},
                                      {published, fp_changed, d, owner_d}},
                                     now_, absl::Seconds(30));
  ASSERT_EQ(claims.size(), 4u);
  for (const auto& claim : claims) ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claims[0]->kind, Claim::Kind::kClaimed);
  EXPECT_TRUE(claims[0]->proposal_taken);
  EXPECT_EQ(claims[0]->referral_id, "ref-a");
  EXPECT_EQ(claims[1]->kind, Claim::Kind::kInProgress);
  EXPECT_EQ(claims[1]->referral_id, "ref-a");
  EXPECT_EQ(claims[1]->held_until, now_ + absl::Seconds(30));
  EXPECT_EQ(claims[2]->kind, Claim::Kind::kDuplicate);
  EXPECT_EQ(claims[2]->referral_id, "ref-p");
  EXPECT_EQ(claims[3]->kind, Claim::Kind::kConflict);
  EXPECT_EQ(claims[3]->referral_id, "ref-p");
}

// A store that cannot be reached answers every claim of the round trip with why.
TEST_F(RedisSubmissionStoreTest, ClaimsSentTogetherToAStoreDownAreEachUnavailable) {
  server_.Stop();
  const Fingerprint fingerprint{"fp", {}};
  const Proposal proposal{"ref-x", "event-x"};
  const std::string owner = "attempt-x";
  auto claims = store_->TryClaimMany(
      {{key_, fingerprint, proposal, owner}, {key_, fingerprint, proposal, owner}}, now_,
      absl::Seconds(30));
  ASSERT_EQ(claims.size(), 2u);
  for (const auto& claim : claims) EXPECT_FALSE(claim.ok());
}

}  // namespace
}  // namespace signpost::intake
