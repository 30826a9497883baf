// Matching referrals once against a real redis-server: each match recorded with its assignment in
// one step, a redelivery given its first record back, and no link worker given a case past their
// maximum however matchers race (issue 22, items 8 and 9).
#include "services/matching/match_recording.h"
#include "services/matching/directory_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/redis/redis_pool.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::matching {
namespace {

using Recorded = DirectoryCache::RecordedMatch::State;

class MatchRecordingTest : public testing::RedisPoolTest {
 protected:
  MatchRecordingTest() : RedisPoolTest(4) {}

  // A network serving `practice` with workers of the given maximum caseloads (0: none).
  void Team(DirectoryCache& cache, const std::string& network, const std::string& practice,
            const std::vector<int>& caps) {
    v1::Network n;
    n.set_id(network);
    n.add_practice_ods_codes(practice);
    ASSERT_TRUE(cache.PutNetwork(n).ok());
    for (size_t i = 0; i < caps.size(); ++i) {
      v1::LinkWorker w;
      w.set_id(absl::StrCat(network, "-lw", i));
      w.set_network_id(network);
      w.set_available(true);
      w.set_max_active_cases(caps[i]);
      ASSERT_TRUE(cache.PutLinkWorker(w).ok());
    }
  }

  static v1::Referral From(const std::string& practice) {
    v1::Referral r;
    r.mutable_referrer()->set_ods_code(practice);
    r.mutable_profile()->set_postcode_district("LS6");
    r.add_needs()->set_category(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
    return r;
  }

  // The events a matcher would publish for a reading: a matched event naming the decision, and
  // `tag` (which differs between attempts, as a new decision's content would).
  static std::vector<v1::Event> Events(const MatchReading& read, const std::string& tag) {
    v1::Event e;
    auto* m = e.mutable_referral_matched();
    m->set_link_worker_id(read.assignment.link_worker_id);
    m->set_network_id(read.assignment.network_id);
    for (const auto& r : read.assignment.reasons) m->add_assignment_reasons(r);
    m->set_location_basis(tag);
    return {e};
  }

  static v1::ReferralMatched Matched(const std::vector<std::string>& events) {
    v1::Event e;
    EXPECT_FALSE(events.empty());
    if (!events.empty()) EXPECT_TRUE(e.ParseFromString(events[0]));
    return e.referral_matched();
  }

  std::string Get(const std::string& key) {
    auto reply = pool_->Execute({"GET", key});
    return reply.ok() ? reply->str : "(error)";
  }
  std::string Caseload(const std::string& worker) {
    return Get(absl::StrCat("signpost:roster:caseload:", worker));
  }

  // Reads, decides and records one referral once, with MatchOnce.
  absl::StatusOr<v1::ReferralMatched> MatchOne(DirectoryCache& cache, const std::string& id,
                                               const v1::Referral& referral,
                                               const std::string& tag = "") {
    std::vector<ToMatch> batch = {{&id, &referral}};
    auto out = MatchOnce(cache, cache, batch, MatchPolicy(),
                         [&](size_t, const MatchReading& read) { return Events(read, tag); });
    if (!out[0].ok()) return out[0].status();
    return Matched(*out[0]);
  }
};

// Two matchers that know nothing of the practice yet (each process's first referral after a start)
// read the same caseloads: the worker's last place goes to one referral; the other's decision is
// stale when it comes to be recorded, and made again it goes where the rule sends it with that
// place taken: the team queue.
TEST_F(MatchRecordingTest, TwoMatchersRacingForAWorkersLastPlaceGiveItOnce) {
  DirectoryCache first(*pool_), second(*pool_);
  Team(first, "pcn-small", "B86002", {2});
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:roster:caseload:pcn-small-lw0", "1"}).ok());
  const v1::Referral referral = From("B86002");
  // Both read and decide before either records, as two processes' reads interleave.
  auto a = ReadForMatching(first, "ref-a", referral, MatchPolicy());
  auto b = ReadForMatching(second, "ref-b", referral, MatchPolicy());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->assignment.link_worker_id, "pcn-small-lw0");
  EXPECT_EQ(b->assignment.link_worker_id, "pcn-small-lw0");
  auto record = [](const MatchReading& read) {
    DirectoryCache::MatchToRecord r = read.to_record;
    r.events.push_back(Events(read, "")[0].SerializeAsString());
    return r;
  };
  auto recorded_a = first.RecordMatches({record(*a)});
  auto recorded_b = second.RecordMatches({record(*b)});
  ASSERT_TRUE(recorded_a[0].ok() && recorded_b[0].ok());
  EXPECT_EQ(recorded_a[0]->state, Recorded::kRecorded);
  EXPECT_EQ(recorded_b[0]->state, Recorded::kStale);
  EXPECT_EQ(Caseload("pcn-small-lw0"), "2");
  EXPECT_EQ(Get("signpost:roster:assignment:ref-b"), "");

  auto again = MatchOne(second, "ref-b", referral);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->link_worker_id(), "");
  EXPECT_THAT(again->assignment_reasons(), ::testing::Contains(::testing::HasSubstr("team queue")));
  EXPECT_EQ(Caseload("pcn-small-lw0"), "2");
}

// Two matchers in two threads, each matching the same practice's referrals as fast as Redis
// answers: every worker fills to their maximum and no further, the rest go to the team queue, and
// every referral is recorded once.
TEST_F(MatchRecordingTest, TwoMatchersAtOnceNeverGiveAWorkerACasePastTheirMaximum) {
  DirectoryCache setup(*pool_);
  Team(setup, "pcn-busy", "B86005", {3, 5, 4});
  const v1::Referral referral = From("B86005");
  std::vector<std::string> ids[2];
  std::vector<absl::StatusOr<std::vector<std::string>>> results[2];
  std::vector<std::thread> matchers;
  for (int m = 0; m < 2; ++m) {
    for (int i = 0; i < 30; ++i) ids[m].push_back(absl::StrCat("ref-", m, "-", i));
    matchers.emplace_back([&, m] {
      DirectoryCache cache(*pool_);  // its own process, as it were
      for (size_t from = 0; from < ids[m].size(); from += 3) {
        std::vector<ToMatch> batch;
        for (size_t i = from; i < from + 3; ++i) batch.push_back({&ids[m][i], &referral});
        // A batch whose decisions kept going stale is retried, as its consumer would.
        std::vector<absl::StatusOr<std::vector<std::string>>> done;
        for (int attempt = 0; attempt < 20; ++attempt) {
          done = MatchOnce(cache, cache, batch, MatchPolicy(),
                           [](size_t, const MatchReading& read) { return Events(read, ""); });
          if (std::none_of(done.begin(), done.end(), [](const auto& r) {
                return r.status().code() == absl::StatusCode::kAborted;
              })) {
            break;
          }
        }
        for (auto& r : done) results[m].push_back(std::move(r));
      }
    });
  }
  for (auto& t : matchers) t.join();
  std::map<std::string, int> assigned;
  for (int m = 0; m < 2; ++m) {
    ASSERT_EQ(results[m].size(), 30u);
    for (size_t i = 0; i < results[m].size(); ++i) {
      ASSERT_TRUE(results[m][i].ok()) << results[m][i].status();
      const std::string worker = Matched(*results[m][i]).link_worker_id();
      ++assigned[worker];
      EXPECT_EQ(Get(absl::StrCat("signpost:roster:assignment:", ids[m][i])), worker);
    }
  }
  EXPECT_EQ(assigned["pcn-busy-lw0"], 3);
  EXPECT_EQ(assigned["pcn-busy-lw1"], 5);
  EXPECT_EQ(assigned["pcn-busy-lw2"], 4);
  EXPECT_EQ(assigned[""], 60 - 12);
  EXPECT_EQ(Caseload("pcn-busy-lw0"), "3");
  EXPECT_EQ(Caseload("pcn-busy-lw1"), "5");
  EXPECT_EQ(Caseload("pcn-busy-lw2"), "4");
}

// The first decision is recorded with the assignment; whatever moves on later (caseloads, the
// roster), the referral read again gets that record back, and recording it again changes nothing.
TEST_F(MatchRecordingTest, AMatchIsRecordedOnceAndARedeliveryGetsItsFirstRecordBack) {
  DirectoryCache cache(*pool_);
  Team(cache, "pcn-north", "B86001", {0, 0});
  const v1::Referral referral = From("B86001");
  auto first = MatchOne(cache, "ref-1", referral, "first");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->link_worker_id(), "pcn-north-lw0");
  EXPECT_EQ(Caseload("pcn-north-lw0"), "1");

  ASSERT_TRUE(pool_->Execute({"SET", "signpost:roster:caseload:pcn-north-lw0", "9"}).ok());
  Team(cache, "pcn-north", "B86001", {0, 0, 0});  // the roster moves on
  auto read = ReadForMatching(cache, "ref-1", referral, MatchPolicy());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->recorded.size(), 1u);
  auto again = MatchOne(cache, "ref-1", referral, "second");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Caseload("pcn-north-lw0"), "9");

  // Recorded by two at once: the one that comes second gets the first's record.
  auto one = ReadForMatching(cache, "ref-2", referral, MatchPolicy());
  auto two = ReadForMatching(cache, "ref-2", referral, MatchPolicy());
  ASSERT_TRUE(one.ok() && two.ok());
  DirectoryCache::MatchToRecord r1 = one->to_record, r2 = two->to_record;
  r1.events = {"first"};
  r2.events = {"second"};
  r2.worker_caseload += 1;  // as if it had seen the first's case
  auto both = cache.RecordMatches({r1, r2});
  ASSERT_TRUE(both[0].ok() && both[1].ok());
  EXPECT_EQ(both[0]->state, Recorded::kRecorded);
  EXPECT_EQ(both[1]->state, Recorded::kEarlier);
  EXPECT_THAT(both[1]->events, ::testing::ElementsAre("first"));
}

// What a decision read must still hold when it is recorded: the roster, the worker's caseload, a
// place under their maximum. Otherwise nothing is written.
TEST_F(MatchRecordingTest, ADecisionOnARosterOrCaseloadThatMovedOnIsNotRecorded) {
  DirectoryCache cache(*pool_);
  Team(cache, "pcn-north", "B86001", {5});
  const v1::Referral referral = From("B86001");
  auto record = [&](const std::string& id, const std::function<void()>& meanwhile) {
    auto read = ReadForMatching(cache, id, referral, MatchPolicy());
    EXPECT_TRUE(read.ok()) << read.status();
    DirectoryCache::MatchToRecord r = read->to_record;
    r.events = {"event"};
    meanwhile();
    auto recorded = cache.RecordMatches({r});
    EXPECT_TRUE(recorded[0].ok()) << recorded[0].status();
    return recorded[0].ok() ? recorded[0]->state : Recorded::kStale;
  };
  EXPECT_EQ(record("ref-roster", [&] { Team(cache, "pcn-north", "B86001", {5}); }),
            Recorded::kStale);
  EXPECT_EQ(
      record("ref-load",
             [&] {
               ASSERT_TRUE(pool_->Execute({"INCR", "signpost:roster:caseload:pcn-north-lw0"}).ok());
             }),
      Recorded::kStale);
  for (const char* id : {"ref-roster", "ref-load"}) {
    EXPECT_EQ(Get(absl::StrCat("signpost:roster:assignment:", id)), "");
    EXPECT_EQ(Get(absl::StrCat("signpost:roster:match:", id)), "");
  }
  EXPECT_EQ(Caseload("pcn-north-lw0"), "1");
  EXPECT_EQ(record("ref-now", [] {}), Recorded::kRecorded);
  EXPECT_EQ(Caseload("pcn-north-lw0"), "2");

  // A decision that would put the worker past their maximum (a cap lowered under the reader's
  // feet in the same roster is impossible; a caseload figure that says so is enough).
  auto read = ReadForMatching(cache, "ref-full", referral, MatchPolicy());
  ASSERT_TRUE(read.ok());
  DirectoryCache::MatchToRecord full = read->to_record;
  full.events = {"event"};
  full.worker_cap = 2;
  auto recorded = cache.RecordMatches({full});
  ASSERT_TRUE(recorded[0].ok());
  EXPECT_EQ(recorded[0]->state, Recorded::kStale);
  EXPECT_EQ(Caseload("pcn-north-lw0"), "2");
}

// A case that ended before its match takes no place; its record is kept a while, not for ever.
// A referral an earlier version assigned without a record keeps that assignment.
TEST_F(MatchRecordingTest, EndedCasesTakeNoPlaceAndEarlierAssignmentsStand) {
  DirectoryCache cache(*pool_);
  Team(cache, "pcn-north", "B86001", {5});
  const v1::Referral referral = From("B86001");
  ASSERT_TRUE(cache.ReleaseAssignment("ref-ended").ok());
  auto ended = MatchOne(cache, "ref-ended", referral);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->link_worker_id(), "pcn-north-lw0");
  EXPECT_EQ(Caseload("pcn-north-lw0"), "");
  auto ttl = pool_->Execute({"TTL", "signpost:roster:match:ref-ended"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, absl::ToInt64Seconds(kRecordedMatchRetention));

  auto open = MatchOne(cache, "ref-open", referral);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(pool_->Execute({"TTL", "signpost:roster:match:ref-open"})->integer, -1);
  ASSERT_TRUE(cache.ReleaseAssignment("ref-open").ok());
  EXPECT_GT(pool_->Execute({"TTL", "signpost:roster:match:ref-open"})->integer, 0);
  EXPECT_EQ(Caseload("pcn-north-lw0"), "0");

  ASSERT_TRUE(pool_->Execute({"SET", "signpost:roster:assignment:ref-old", "pcn-north-lw7"}).ok());
  auto old = MatchOne(cache, "ref-old", referral);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->link_worker_id(), "pcn-north-lw7");
  EXPECT_THAT(old->assignment_reasons(), ::testing::ElementsAre("assigned earlier"));
  EXPECT_EQ(Caseload("pcn-north-lw0"), "0");
  EXPECT_EQ(Caseload("pcn-north-lw7"), "");
}

}  // namespace
}  // namespace signpost::matching
