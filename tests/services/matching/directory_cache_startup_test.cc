// The directory cache's start-up against a real redis-server (no Kafka): several matching
// instances clearing an incomplete cache and loading it at the same time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/redis/redis_pool.h"
#include "services/matching/directory_cache.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::matching {
namespace {

v1::Resource Walk(int i) {
  v1::Resource r;
  r.set_id(absl::StrCat("walk-", i));
  r.set_name(absl::StrCat("Walk ", i));
  r.set_status(v1::RESOURCE_STATUS_ACTIVE);
  r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
  auto* loc = r.add_locations();
  loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
  loc->mutable_point()->set_latitude(53.8200 + 0.0001 * i);
  loc->mutable_point()->set_longitude(-1.5700);
  return r;
}

class DirectoryCacheStartupTest : public testing::RedisPoolTest {
 protected:
};

// What a clear racing with a load could leave: the stamp counter without its epoch. Writes go on,
// with stamps no earlier write had.
TEST_F(DirectoryCacheStartupTest, AStampCounterThatLostItsEpochStillStampsWrites) {
  DirectoryCache cache(*pool_);
  ASSERT_TRUE(cache.PutResource(Walk(1)).ok());
  auto first = pool_->Execute({"GET", "signpost:dir:stamp:walk-1"});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(pool_->Execute({"DEL", "signpost:dir:epoch"}).ok());

  absl::Status written = cache.PutResource(Walk(2));
  ASSERT_TRUE(written.ok()) << written;
  auto second = pool_->Execute({"GET", "signpost:dir:stamp:walk-2"});
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->str, "");
  // Not the first write's epoch: the counter alone does not make a stamp unique.
  EXPECT_NE(second->str.substr(0, second->str.find('.')),
            first->str.substr(0, first->str.find('.')));
}

// A version key that is not a version (written by hand, or by another build) does not stop
// writes: the write replaces it.
TEST_F(DirectoryCacheStartupTest, AVersionThatCannotBeReadIsReplacedByTheWrite) {
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:dir:version:walk-1", "yesterday"}).ok());
  DirectoryCache cache(*pool_);
  v1::Resource walk = Walk(1);
  walk.mutable_updated_at()->set_seconds(1767225600);
  absl::Status written = cache.PutResource(walk);
  ASSERT_TRUE(written.ok()) << written;
  auto version = pool_->Execute({"GET", "signpost:dir:version:walk-1"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->str, "1767225600 0");
}

// A load begun before a clear writes nothing after the clear began: its writes and its mark of a
// complete cache are ABORTED (read the topic again), and a load begun again writes under the new
// generation.
TEST_F(DirectoryCacheStartupTest, ALoadBegunBeforeAClearIsAbortedAndLoadsAgainAfterIt) {
  DirectoryCache loading(*pool_), starting(*pool_);
  auto before = loading.BeginLoad();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(loading.PutResource(Walk(1), *before).ok());

  auto cleared = starting.ClearUnlessLoaded();  // the cache is not complete yet
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_GT(*cleared, 0);
  auto read = loading.GetResource("walk-1");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
  EXPECT_TRUE(absl::IsAborted(loading.PutResource(Walk(2), *before)));
  EXPECT_TRUE(absl::IsAborted(loading.RemoveResource("walk-1", *before)));
  absl::Status marked = loading.MarkLoaded(*before);
  EXPECT_TRUE(absl::IsAborted(marked)) << marked;
  EXPECT_THAT(std::string(marked.message()),
              ::testing::HasSubstr("read the directory topic again"));
  EXPECT_FALSE(*loading.IsLoaded());

  auto after = loading.BeginLoad();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(*after, *before);
  ASSERT_TRUE(loading.PutResource(Walk(1), *after).ok());
  ASSERT_TRUE(loading.PutResource(Walk(2), *after).ok());
  ASSERT_TRUE(loading.MarkLoaded(*after).ok());
  EXPECT_TRUE(*loading.IsLoaded());
  // Complete now: an instance starting later clears nothing.
  EXPECT_EQ(*DirectoryCache(*pool_).ClearUnlessLoaded(), 0);
  EXPECT_TRUE(loading.GetResource("walk-2")->has_value());
}

// A clear whose instance stopped halfway (here as it leaves Redis: its name set, keys left) is
// finished by the next load to begin; until then writes outside a load wait (UNAVAILABLE) and
// nothing is marked complete.
TEST_F(DirectoryCacheStartupTest, AClearLeftHalfwayIsFinishedByTheNextLoadAndWritesWaitForIt) {
  DirectoryCache cache(*pool_);
  v1::Resource with_places = Walk(1);
  with_places.mutable_capacity()->set_places_total(8);
  with_places.mutable_capacity()->set_places_available(3);
  ASSERT_TRUE(cache.PutResource(with_places).ok());
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:dir:generation", "7:1767225600000000"}).ok());
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:dir:clearing", "7:1767225600000000"}).ok());

  absl::Status direct = cache.PutResource(Walk(2));
  EXPECT_TRUE(absl::IsUnavailable(direct)) << direct;
  EXPECT_TRUE(absl::IsUnavailable(cache.RemoveResource("walk-1")));
  auto taken = cache.TakePlace("walk-1", "ref-1", absl::Now());
  EXPECT_TRUE(absl::IsUnavailable(taken.status())) << taken.status();
  EXPECT_TRUE(absl::IsUnavailable(cache.MarkLoaded("7:1767225600000000")));

  auto generation = cache.BeginLoad();
  ASSERT_TRUE(generation.ok()) << generation.status();
  EXPECT_EQ(*generation, "7:1767225600000000");
  auto left = pool_->Execute({"EXISTS", "signpost:dir:resource:walk-1", "signpost:dir:clearing"});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 0);
  ASSERT_TRUE(cache.PutResource(Walk(2), *generation).ok());
  ASSERT_TRUE(cache.MarkLoaded(*generation).ok());
  ASSERT_TRUE(cache.PutResource(Walk(3)).ok());  // the directory service's, again
}

// One instance's start as signpost-matching makes it: clear unless the cache is complete, then
// load the directory (the topic, here `directory`) under the generation the load began in,
// reading it again from the beginning when the cache was cleared under the load (ABORTED), and
// trying again after UNAVAILABLE. The first other failure, if any.
absl::Status StartInstance(DirectoryCache& cache, const std::vector<v1::Resource>& directory) {
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  auto wait_out = [&](const absl::Status& s) {
    if (!absl::IsUnavailable(s) || absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
    return true;
  };
  auto cleared = cache.ClearUnlessLoaded();
  if (!cleared.ok()) return cleared.status();
  while (true) {
    auto generation = cache.BeginLoad();
    if (!generation.ok()) {
      if (wait_out(generation.status())) continue;
      return generation.status();
    }
    bool aborted = false;
    for (size_t i = 0; i < directory.size() && !aborted; ++i) {
      absl::Status s = cache.PutResource(directory[i], *generation);
      while (wait_out(s)) s = cache.PutResource(directory[i], *generation);
      aborted = absl::IsAborted(s);
      if (!s.ok() && !aborted) return s;
    }
    if (aborted) continue;
    absl::Status marked = cache.MarkLoaded(*generation);
    while (wait_out(marked)) marked = cache.MarkLoaded(*generation);
    if (absl::IsAborted(marked)) continue;
    return marked;
  }
}

// Instances started together over an incomplete cache (junk left by an older build): each
// clears what it finds unless the cache is complete, then loads the directory. Whatever the
// interleaving, every write succeeds or is refused with what to do, and the cache ends complete,
// each resource indexed once, without the junk.
TEST_F(DirectoryCacheStartupTest, InstancesStartingTogetherOverAnIncompleteCacheLeaveItComplete) {
  constexpr int kRounds = 60, kInstances = 3, kResources = 60, kJunk = 6000;
  std::vector<v1::Resource> directory;
  for (int i = 0; i < kResources; ++i) directory.push_back(Walk(i));
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ASSERT_TRUE(pool_->Execute({"FLUSHALL"}).ok());
    for (int i = 0; i < kJunk; i += 500) {
      redis::Command mset = {"MSET"};
      for (int j = i; j < i + 500; ++j) {
        mset.push_back(absl::StrCat("signpost:dir:junk:", j));
        mset.push_back("left by an older build");
      }
      ASSERT_TRUE(pool_->Execute(mset).ok());
    }
    std::vector<absl::Status> started(kInstances);
    std::vector<std::thread> instances;
    for (int n = 0; n < kInstances; ++n) {
      instances.emplace_back([&, n] {
        auto pool = testing::PoolFor(server_);
        // In odd rounds the last starts once another has begun to load, so its clear begins
        // under that load.
        if (round % 2 == 1 && n == kInstances - 1) {
          absl::Time deadline = absl::Now() + absl::Seconds(10);
          while (absl::Now() < deadline) {
            auto stamps = pool->Execute({"EXISTS", "signpost:dir:stamps"});
            if (stamps.ok() && stamps->integer == 1) break;
          }
        }
        DirectoryCache cache(*pool);
        started[n] = StartInstance(cache, directory);
      });
    }
    for (auto& t : instances) t.join();
    for (const absl::Status& s : started) ASSERT_TRUE(s.ok()) << s;

    DirectoryCache reader(*pool_);
    auto loaded = reader.IsLoaded();
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(*loaded);
    auto junk = pool_->Execute({"EXISTS", "signpost:dir:junk:0", "signpost:dir:junk:5999"});
    ASSERT_TRUE(junk.ok());
    EXPECT_EQ(junk->integer, 0);
    CandidateQuery everywhere;
    everywhere.need = v1::NEED_CATEGORY_PHYSICAL_ACTIVITY;
    everywhere.point = Walk(0).locations(0).point();
    everywhere.radius_km = 50;
    auto found = reader.Candidates({everywhere});
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ((*found)[0].size(), static_cast<size_t>(kResources));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace signpost::matching
