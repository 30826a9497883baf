// The directory cache's read path and the postcode lookup against a real redis-server (no Kafka).
#include "services/matching/directory_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"

#include "common/redis/redis_pool.h"
#include "services/matching/postcode_lookup.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"

namespace signpost::matching {
namespace {

v1::Resource Walking(const std::string& id, const std::string& name) {
  v1::Resource r;
  r.set_id(id);
  r.set_name(name);
  r.set_status(v1::RESOURCE_STATUS_ACTIVE);
  r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
  auto* loc = r.add_locations();
  loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
  loc->mutable_point()->set_latitude(53.8200);
  loc->mutable_point()->set_longitude(-1.5700);
  return r;
}

CandidateQuery NearHeadingley() {
  CandidateQuery q;
  q.need = v1::NEED_CATEGORY_PHYSICAL_ACTIVITY;
  v1::GeoPoint p;
  p.set_latitude(53.8190);
  p.set_longitude(-1.5710);
  q.point = p;
  q.radius_km = 3;
  return q;
}

class DirectoryCacheTest : public testing::RedisPoolTest {
 protected:
  std::string WriteCsv(const std::string& rows) {
    std::string path = server_.dir() + "/postcodes.csv";
    std::ofstream(path) << "postcode,latitude,longitude,lsoa,imd_decile\n" << rows;
    return path;
  }
};

TEST_F(DirectoryCacheTest,
       TheLocationCandidatesAndTeamComeInOneReadEvenAfterTheServerForgotItsScripts) {
  DirectoryCache cache(*pool_);
  ASSERT_TRUE(cache.PutResource(Walking("res-1", "Park walk")).ok());
  v1::Resource online = Walking("res-2", "Online stretch class");
  online.clear_locations();
  online.clear_delivery_modes();
  online.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
  ASSERT_TRUE(cache.PutResource(online).ok());
  v1::Network network;
  network.set_id("pcn-north");
  network.add_practice_ods_codes("B86001");
  ASSERT_TRUE(cache.PutNetwork(network).ok());
  for (const char* id : {"lw-b", "lw-a"}) {
    v1::LinkWorker w;
    w.set_id(id);
    w.set_network_id("pcn-north");
    ASSERT_TRUE(cache.PutLinkWorker(w).ok());
  }
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:roster:caseload:lw-b", "1"}).ok());
  PostcodeLookup postcodes(*pool_);
  ASSERT_TRUE(postcodes
                  .LoadCsv(WriteCsv("LS6 3AA,53.8190,-1.5710,E01011669,3\n"
                                    "LS6,53.8300,-1.5900,E01011670,5\n"))
                  .ok());
  ASSERT_TRUE(pool_->Execute({"SCRIPT", "FLUSH"}).ok());  // as after a restart

  CandidateQuery walking = NearHeadingley();
  walking.point.reset();  // the read finds the point itself
  auto read = cache.LocateCandidatesAndTeam("LS6 3AA", "LS6", {walking}, "B86001");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->location.basis, PersonLocation::Basis::kPostcode);
  EXPECT_EQ(read->location.lsoa_code, "E01011669");
  EXPECT_EQ(read->location.imd_decile, 3);
  EXPECT_DOUBLE_EQ(read->location.point.latitude(), 53.8190);
  ASSERT_EQ(read->candidates.size(), 1u);
  ASSERT_EQ(read->candidates[0].size(), 2u);
  EXPECT_EQ(read->candidates[0][0].resource->name(), "Park walk");
  EXPECT_FALSE(read->candidates[0][0].remote);
  EXPECT_NEAR(read->candidates[0][0].distance_km, 0.13, 0.05);
  EXPECT_EQ(read->candidates[0][1].resource->name(), "Online stretch class");
  EXPECT_TRUE(read->candidates[0][1].remote);
  EXPECT_EQ(read->team.network_id, "pcn-north");
  ASSERT_EQ(read->team.workers.size(), 2u);
  EXPECT_EQ(read->team.workers[0].id(), "lw-a");  // in a stable order
  EXPECT_EQ(read->team.caseloads.at("lw-a"), 0);
  EXPECT_EQ(read->team.caseloads.at("lw-b"), 1);

  // The same distances as a search from the point the postcode lookup gives.
  CandidateQuery direct = walking;
  direct.point = postcodes.Locate("LS6 3AA", "LS6")->point;
  auto searched = cache.Candidates({direct});
  ASSERT_TRUE(searched.ok()) << searched.status();
  ASSERT_EQ((*searched)[0].size(), 2u);
  EXPECT_EQ((*searched)[0][0].distance_km, read->candidates[0][0].distance_km);

  // A postcode not loaded: its district's centre, further from the walk.
  auto district = cache.LocateCandidatesAndTeam("LS6 9ZZ", "LS6", {walking}, "Z99999");
  ASSERT_TRUE(district.ok()) << district.status();
  EXPECT_EQ(district->location.basis, PersonLocation::Basis::kDistrict);
  EXPECT_EQ(district->location.imd_decile, 5);
  ASSERT_EQ(district->candidates[0].size(), 2u);
  EXPECT_NEAR(district->candidates[0][0].distance_km, 1.72, 0.05);
  EXPECT_EQ(district->team.network_id, "");  // a practice no network serves
  EXPECT_TRUE(district->team.workers.empty());

  // Neither known: remote resources only.
  auto nowhere = cache.LocateCandidatesAndTeam("ZZ1 1ZZ", "ZZ1", {walking}, "B86001");
  ASSERT_TRUE(nowhere.ok()) << nowhere.status();
  EXPECT_EQ(nowhere->location.basis, PersonLocation::Basis::kNone);
  ASSERT_EQ(nowhere->candidates[0].size(), 1u);
  EXPECT_EQ(nowhere->candidates[0][0].resource->name(), "Online stretch class");
  EXPECT_EQ(nowhere->team.network_id, "pcn-north");
}

TEST_F(DirectoryCacheTest, ARecordThisInstanceWroteIsReadFromProcessUntilItsStampChanges) {
  DirectoryCache cache(*pool_);
  ASSERT_TRUE(cache.PutResource(Walking("res-1", "Park walk")).ok());
  // Bytes changed behind the cache's back, stamp unchanged: the parsed copy is still used.
  ASSERT_TRUE(pool_->Execute({"SET", "signpost:dir:resource:res-1", "not a record"}).ok());
  auto read = cache.Candidates({NearHeadingley()});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ((*read)[0].size(), 1u);
  EXPECT_EQ((*read)[0][0].resource->name(), "Park walk");

  // Another instance writes a new version: the stamp moves and the new record is read.
  DirectoryCache other(*pool_);
  ASSERT_TRUE(other.PutResource(Walking("res-1", "Riverside walk")).ok());
  read = cache.Candidates({NearHeadingley()});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ((*read)[0].size(), 1u);
  EXPECT_EQ((*read)[0][0].resource->name(), "Riverside walk");
}

// A need category this build does not know (a newer version's, written to the shared cache or
// read from the topic during a rolling upgrade): its index entries are replaced and removed like
// any other, as they were before the script declared every key in KEYS.
TEST_F(DirectoryCacheTest, IndexEntriesOfANeedThisBuildDoesNotKnowAreReplacedAndRemoved) {
  constexpr int kNewerNeed = 999;
  ASSERT_EQ(v1::NeedCategory_descriptor()->FindValueByNumber(kNewerNeed), nullptr);
  DirectoryCache cache(*pool_);
  v1::Resource newer = Walking("res-1", "Park walk");
  newer.add_need_categories(static_cast<v1::NeedCategory>(kNewerNeed));
  newer.mutable_updated_at()->set_seconds(100);
  ASSERT_TRUE(cache.PutResource(newer).ok());
  auto indexed = pool_->Execute({"ZCARD", absl::StrCat("signpost:dir:geo:", kNewerNeed)});
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  ASSERT_EQ(indexed->integer, 1);

  // A later version without that need: its entry goes.
  v1::Resource later = Walking("res-1", "Park walk");
  later.mutable_updated_at()->set_seconds(200);
  absl::Status put = cache.PutResource(later);
  ASSERT_TRUE(put.ok()) << put;
  indexed = pool_->Execute({"ZCARD", absl::StrCat("signpost:dir:geo:", kNewerNeed)});
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  EXPECT_EQ(indexed->integer, 0);

  // And a removal of a record that has one.
  newer.mutable_updated_at()->set_seconds(300);
  ASSERT_TRUE(cache.PutResource(newer).ok());
  absl::Status removed = cache.RemoveResource("res-1");
  ASSERT_TRUE(removed.ok()) << removed;
  indexed = pool_->Execute({"ZCARD", absl::StrCat("signpost:dir:geo:", kNewerNeed)});
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  EXPECT_EQ(indexed->integer, 0);
  auto gone = cache.GetResource("res-1");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value());
}

// A coordinate that is not a number ("nan" reads as one, and fails no < or > test) is refused
// with its line, and nothing of the file is loaded.
TEST_F(DirectoryCacheTest, APostcodeFileWithoutANumberForACoordinateIsRefused) {
  PostcodeLookup postcodes(*pool_);
  auto loaded =
      postcodes.LoadCsv(WriteCsv("LS6 3AA,53.8190,-1.5710,E01011669,3\n"
                                 "LS6 3AB,nan,-1.5710,E01011669,3\n"
                                 "LS6 3AD,53.8190,NaN,E01011669,3\n"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find("line 3:"), absl::string_view::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("line 4:"), absl::string_view::npos) << loaded.status();
  auto exists = pool_->Execute({"EXISTS", "signpost:postcode:LS6 3AA"});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer, 0);
}

TEST_F(DirectoryCacheTest, PostcodesAreRememberedButAReloadOrANewPostcodeIsSeenAtOnce) {
  PostcodeLookup postcodes(*pool_);
  ASSERT_TRUE(postcodes.LoadCsv(WriteCsv("LS6 3AA,53.8190,-1.5710,E01011669,3\n")).ok());
  auto first = postcodes.Locate("LS6 3AA", "LS6");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->basis, PersonLocation::Basis::kPostcode);
  EXPECT_EQ(first->imd_decile, 3);

  // Remembered: answered without Redis.
  ASSERT_TRUE(pool_->Execute({"DEL", "signpost:postcode:LS6 3AA"}).ok());
  auto again = postcodes.Locate("LS6 3AA", "LS6");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->imd_decile, 3);

  // A reload through this lookup replaces what it remembered.
  ASSERT_TRUE(postcodes.LoadCsv(WriteCsv("LS6 3AA,53.8190,-1.5710,E01011669,4\n")).ok());
  EXPECT_EQ(postcodes.Locate("LS6 3AA", "LS6")->imd_decile, 4);

  // An unknown postcode is not remembered as unknown: once loaded (by anyone) it is found.
  EXPECT_EQ(postcodes.Locate("LS7 1AB", "LS7")->basis, PersonLocation::Basis::kNone);
  ASSERT_TRUE(pool_
                  ->Execute({"HSET", "signpost:postcode:LS7 1AB", "lat", "53.83", "lon", "-1.54",
                             "lsoa", "E01011700", "imd", "2"})
                  .ok());
  EXPECT_EQ(postcodes.Locate("LS7 1AB", "LS7")->basis, PersonLocation::Basis::kPostcode);

  // And what it remembers expires.
  PostcodeLookup brief(*pool_, absl::Milliseconds(50));
  ASSERT_TRUE(brief.Locate("LS7 1AB", "LS7").ok());
  ASSERT_TRUE(pool_->Execute({"DEL", "signpost:postcode:LS7 1AB"}).ok());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(brief.Locate("LS7 1AB", "LS7")->basis, PersonLocation::Basis::kNone);
}

}  // namespace
}  // namespace signpost::matching
