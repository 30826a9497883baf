// Reading a batch of referrals for matching in one round trip, against a real redis-server: the
// same assignments, caseloads and candidates as reading them one by one.
#include "services/matching/match_reading.h"
#include "services/matching/directory_cache.h"
#include "services/matching/match_recording.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/redis/redis_pool.h"
#include "services/matching/postcode_lookup.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::matching {
namespace {

class MatchReadingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* s : {&batched_server_, &single_server_}) ASSERT_TRUE(s->Start().ok());
    batched_ = testing::PoolFor(batched_server_);
    single_ = testing::PoolFor(single_server_);
    ASSERT_TRUE(batched_ && single_);
  }

  // The same region in both: two practices' networks with capped workers, walking groups near
  // Headingley and one remote befriending service.
  static void Region(DirectoryCache& cache, std::vector<v1::LinkWorker>& roster) {
    for (const auto& [network, practice] :
         {std::pair{"pcn-north", "B86001"}, std::pair{"pcn-south", "B86002"}}) {
      v1::Network n;
      n.set_id(network);
      n.add_practice_ods_codes(practice);
      // The north has a second practice, whose team is remembered apart from the first's.
      if (network == std::string("pcn-north")) n.add_practice_ods_codes("B86003");
      ASSERT_TRUE(cache.PutNetwork(n).ok());
      for (int i = 0; i < 3; ++i) {
        v1::LinkWorker w;
        w.set_id(absl::StrCat(network, "-lw", i));
        w.set_network_id(network);
        w.set_available(true);
        // The north's workers have room throughout; the south's fill up.
        w.set_max_active_cases(network == std::string("pcn-north") ? 20 + i : 1 + i);
        w.add_languages(i == 1 ? "pl" : "en");
        roster.push_back(w);
        ASSERT_TRUE(cache.PutLinkWorker(w).ok());
      }
    }
    for (int i = 0; i < 4; ++i) {
      v1::Resource r;
      r.set_id(absl::StrCat("walk-", i));
      r.set_name(absl::StrCat("Walking group ", i));
      r.set_status(v1::RESOURCE_STATUS_ACTIVE);
      r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
      r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
      auto* loc = r.add_locations();
      loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
      loc->mutable_point()->set_latitude(53.8200 + 0.002 * i);
      loc->mutable_point()->set_longitude(-1.5700);
      ASSERT_TRUE(cache.PutResource(r).ok());
    }
    v1::Resource remote;
    remote.set_id("befriend-phone");
    remote.set_name("Telephone befriending");
    remote.set_status(v1::RESOURCE_STATUS_ACTIVE);
    remote.add_need_categories(v1::NEED_CATEGORY_LONELINESS);
    remote.add_delivery_modes(v1::DELIVERY_MODE_PHONE);
    ASSERT_TRUE(cache.PutResource(remote).ok());
  }

  testing::RedisServer batched_server_, single_server_;
  std::unique_ptr<redis::RedisPool> batched_, single_;
};

struct Referrals {
  std::vector<std::string> ids;
  std::vector<v1::Referral> referrals;
  std::vector<ToMatch> Batch(size_t from, size_t to) const {
    std::vector<ToMatch> out;
    for (size_t i = from; i < to; ++i) out.push_back({&ids[i], &referrals[i]});
    return out;
  }
};

Referrals MakeReferrals(int n) {
  std::mt19937 rng(5);
  Referrals r;
  for (int i = 0; i < n; ++i) {
    // A redelivery now and then: the same referral again, later in the stream.
    r.ids.push_back(i % 7 == 6 ? r.ids[i - 3] : absl::StrCat("ref-", i));
    v1::Referral referral;
    const char* practices[] = {"B86001", "B86002", "B86003"};
    referral.mutable_referrer()->set_ods_code(practices[rng() % 3]);
    referral.mutable_profile()->set_postcode_district("LS6");
    referral.mutable_profile()->set_preferred_language(rng() % 4 == 0 ? "pl" : "en");
    referral.add_needs()->set_category(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
    if (rng() % 2) referral.add_needs()->set_category(v1::NEED_CATEGORY_LONELINESS);
    r.referrals.push_back(referral);
  }
  return r;
}

// What a matcher would publish for a reading: the assignment with its reasons and the candidates
// found per need, as one matched event.
std::vector<v1::Event> Events(const MatchReading& read) {
  v1::Event e;
  auto* m = e.mutable_referral_matched();
  m->set_link_worker_id(read.assignment.link_worker_id);
  for (const auto& r : read.assignment.reasons) m->add_assignment_reasons(r);
  for (const auto& need : read.found) {
    auto* match = m->add_needs();
    for (const auto& f : need) match->add_options()->set_resource_id(f.resource->id());
  }
  return {e};
}

std::string Summary(const absl::StatusOr<std::vector<std::string>>& recorded) {
  if (!recorded.ok()) return recorded.status().ToString();
  v1::Event e;
  if (recorded->size() != 1 || !e.ParseFromString(recorded->front())) return "(unreadable)";
  const v1::ReferralMatched& m = e.referral_matched();
  std::string out =
      absl::StrCat(m.link_worker_id(), " [", absl::StrJoin(m.assignment_reasons(), "; "), "]");
  for (const auto& need : m.needs()) {
    absl::StrAppend(&out, " |");
    for (const auto& o : need.options()) absl::StrAppend(&out, " ", o.resource_id());
  }
  return out;
}

std::vector<std::string> MatchAll(DirectoryCache& cache, const std::vector<ToMatch>& batch,
                                  const MatchPolicy& policy) {
  std::vector<std::string> out;
  for (const auto& recorded :
       MatchOnce(cache, cache, batch, policy,
                 [](size_t, const MatchReading& read) { return Events(read); })) {
    out.push_back(Summary(recorded));
  }
  return out;
}

TEST_F(MatchReadingTest, ABatchReadInOneTripAssignsAndFindsAsReadingOneByOne) {
  DirectoryCache batched(*batched_), single(*single_);
  std::vector<v1::LinkWorker> roster, same;
  Region(batched, roster);
  Region(single, same);
  for (auto* pool : {batched_.get(), single_.get()}) {
    ASSERT_TRUE(
        pool->Execute({"HSET", PostcodeLookup::KeyOf("LS6"), PostcodeLookup::kFields[0], "53.8190",
                       PostcodeLookup::kFields[1], "-1.5710", PostcodeLookup::kFields[2],
                       "E01011300", PostcodeLookup::kFields[3], "5"})
            .ok());
  }
  MatchPolicy policy;
  const Referrals referrals = MakeReferrals(60);
  // After the third batch of 15 a worker leaves the roster; one by one sees the same at the same
  // point.
  auto leave = [&](DirectoryCache& cache, v1::LinkWorker worker) {
    worker.set_available(false);
    ASSERT_TRUE(cache.PutLinkWorker(worker).ok());
  };
  std::vector<std::string> one_by_one, in_batches;
  for (size_t i = 0; i < referrals.ids.size(); ++i) {
    if (i == 45) leave(single, same[0]);
    for (auto& summary : MatchAll(single, referrals.Batch(i, i + 1), policy)) {
      one_by_one.push_back(summary);
    }
  }
  for (size_t from = 0; from < referrals.ids.size(); from += 15) {
    if (from == 45) leave(batched, roster[0]);
    for (auto& summary : MatchAll(batched, referrals.Batch(from, from + 15), policy)) {
      in_batches.push_back(summary);
    }
  }
  EXPECT_EQ(in_batches, one_by_one);

  // Each worker's caseload was raised once per referral assigned to it, redeliveries not again.
  for (const auto& w : roster) {
    auto b = batched_->Execute({"GET", absl::StrCat("signpost:roster:caseload:", w.id())});
    auto s = single_->Execute({"GET", absl::StrCat("signpost:roster:caseload:", w.id())});
    ASSERT_TRUE(b.ok() && s.ok());
    EXPECT_EQ(b->str, s->str) << w.id();
  }
  // A redelivered referral got its first match back, as it was.
  for (size_t i = 0; i < referrals.ids.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (referrals.ids[j] == referrals.ids[i]) EXPECT_EQ(in_batches[i], in_batches[j]) << i;
    }
  }
  // The south's workers filled up, so its team queue was used too.
  EXPECT_THAT(in_batches, ::testing::Contains(::testing::StartsWith(" [")));
}

TEST_F(MatchReadingTest, WhenRedisIsGoneEveryReferralOfTheBatchIsUnavailable) {
  DirectoryCache cache(*batched_);
  std::vector<v1::LinkWorker> roster;
  Region(cache, roster);
  MatchPolicy policy;
  const Referrals referrals = MakeReferrals(6);
  // Team known, so the batch goes in one trip.
  (void)ReadForMatching(cache, "warm", referrals.referrals[0], policy);
  (void)ReadForMatching(cache, "warm-2", referrals.referrals[1], policy);
  batched_server_.Stop();
  auto reads = ReadForMatchingMany(cache, referrals.Batch(0, 6), policy);
  ASSERT_EQ(reads.size(), 6u);
  for (const auto& read : reads) {
    EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  }
}

}  // namespace
}  // namespace signpost::matching
