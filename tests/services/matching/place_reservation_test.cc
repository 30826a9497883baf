// DirectoryService's place reservations against a real redis-server, with a producer the test
// holds: a place is taken once per referral and resource whatever the broker does or wherever a
// reservation stops halfway (issue 22, item 10).
#include <gtest/gtest.h>

#include <thread>

#include "common/auth/call_authenticator.h"
#include "common/process/worker_pool.h"
#include "services/matching/directory_cache.h"
#include "services/matching/directory_service.h"
#include "services/matching/postcode_lookup.h"
#include "tests/support/fake_producer.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/wait_until.h"

namespace signpost::matching {
namespace {

using signpost::testing::WaitUntil;

class PlaceReservationTest : public testing::RedisPoolTest {
 protected:
  PlaceReservationTest() : RedisPoolTest(4) {}

  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    cache_ = std::make_unique<DirectoryCache>(*pool_);
    postcodes_ = std::make_unique<PostcodeLookup>(*pool_);
    service_ = std::make_unique<DirectoryService>(
        *cache_, *cache_, *cache_, *postcodes_, producer_, "signpost.directory.resources",
        MatchPolicy(), [] { return absl::Now(); }, auth_, workers_);
  }

  void PutWalk(int places) {
    v1::Resource r;
    r.set_id("walk");
    r.set_name("Park walk");
    r.set_status(v1::RESOURCE_STATUS_ACTIVE);
    r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
    r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    auto* loc = r.add_locations();
    loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
    loc->mutable_point()->set_latitude(53.8200);
    loc->mutable_point()->set_longitude(-1.5700);
    r.mutable_capacity()->set_places_total(10);
    r.mutable_capacity()->set_places_available(places);
    ASSERT_TRUE(cache_->PutResource(r).ok());
  }

  int Places() {
    auto found = cache_->GetResource("walk");
    return found.ok() && found->has_value() ? (*found)->capacity().places_available() : -1;
  }

  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string& referral_id) {
    v1::ReservePlaceRequest request;
    request.set_resource_id("walk");
    request.set_referral_id(referral_id);
    return service_->Reserve(auth::DevelopmentCaller(), request);
  }

  redis::Reply Redis(const redis::Command& command) {
    auto reply = pool_->Execute(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : redis::Reply();
  }

  std::unique_ptr<DirectoryCache> cache_;
  std::unique_ptr<PostcodeLookup> postcodes_;
  testing::FakeProducer producer_;
  auth::CallAuthenticator auth_{nullptr};
  WorkerPool workers_{4};
  std::unique_ptr<DirectoryService> service_;
};

// A reservation whose publish is still waiting on the broker (for longer than any lock it could
// hold) leaves no second reservation room to read the same count.
TEST_F(PlaceReservationTest, APublishStillWaitingLetsNoOtherReservationTakeTheSamePlace) {
  PutWalk(1);
  producer_.Hold(true);
  absl::StatusOr<v1::ReservePlaceResponse> first;
  std::thread waiting([&] { first = Reserve("ref-a"); });
  ASSERT_TRUE(WaitUntil([&] { return producer_.HeldCount() == 1; }));
  // Whatever lock the first took has expired by now (it was 5 s).
  ASSERT_TRUE(WaitUntil([&] {
    return Redis({"EXISTS", "signpost:places:reserving:walk"}).integer == 0;
  }));
  producer_.Hold(false);
  absl::StatusOr<v1::ReservePlaceResponse> second = Reserve("ref-b");
  producer_.ReleaseHeld();
  waiting.join();
  EXPECT_EQ(first.ok() + second.ok(), 1) << first.status() << " / " << second.status();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
  EXPECT_EQ(Places(), 0);
  EXPECT_EQ(Redis({"SCARD", "signpost:places:reservations:walk"}).integer, 1);
}

// A reservation that stops halfway (here Redis refuses the reservation record, as a crash right
// before it would leave things) and is asked again takes one place, not two.
TEST_F(PlaceReservationTest, AReservationRetriedAfterStoppingHalfwayTakesOnePlace) {
  PutWalk(3);
  Redis({"ACL", "SETUSER", "default", "resetkeys", "~signpost:dir:*", "~signpost:roster:*",
         "~signpost:places:reserving:*", "%R~signpost:places:reservations:*"});
  absl::StatusOr<v1::ReservePlaceResponse> stopped = Reserve("ref-a");
  Redis({"ACL", "SETUSER", "default", "allkeys"});
  EXPECT_FALSE(stopped.ok());
  absl::StatusOr<v1::ReservePlaceResponse> retried = Reserve("ref-a");
  ASSERT_TRUE(retried.ok()) << retried.status();
  absl::StatusOr<v1::ReservePlaceResponse> again = Reserve("ref-a");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_reserved());
  EXPECT_EQ(Places(), 2);
  EXPECT_EQ(Redis({"SCARD", "signpost:places:reservations:walk"}).integer, 1);
}

}  // namespace
}  // namespace signpost::matching
