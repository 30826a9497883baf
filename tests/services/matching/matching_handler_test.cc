// MatchingHandler without Redis or Kafka: the in-memory directory (fakes/) and a fake producer.
// What a user relies on: a received referral is matched to the resource near the person and
// assigned once to the link worker with the lowest caseload; a redelivery publishes the same
// events and raises no caseload twice; while the directory is away the message is retried, and
// what follows it in its partition is published only when it comes again.
#include "services/matching/matching_handler.h"

#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "tests/services/matching/fakes/in_memory_directory.h"
#include "tests/support/fake_producer.h"

namespace signpost::matching {
namespace {

using Kind = kafka::Outcome::Kind;

class MatchingHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_.SetPostcode("LS6 1BD", 53.8200, -1.5700);
    v1::Network network;
    network.set_id("pcn-leeds-west");
    network.add_practice_ods_codes("B86001");
    ASSERT_TRUE(directory_.PutNetwork(network).ok());
    for (const char* id : {"lw-busy", "lw-free"}) {
      v1::LinkWorker w;
      w.set_id(id);
      w.set_network_id("pcn-leeds-west");
      w.set_available(true);
      w.set_max_active_cases(10);
      ASSERT_TRUE(directory_.PutLinkWorker(w).ok());
    }
    ASSERT_TRUE(directory_.MoveAssignment("earlier-case", "lw-busy").ok());  // lw-busy has one
    v1::Resource r;
    r.set_id("walk-1");
    r.set_name("Walking group");
    r.set_status(v1::RESOURCE_STATUS_ACTIVE);
    r.add_need_categories(v1::NEED_CATEGORY_LONELINESS);
    r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    auto* loc = r.add_locations();
    loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
    loc->mutable_point()->set_latitude(53.8210);
    loc->mutable_point()->set_longitude(-1.5700);
    ASSERT_TRUE(directory_.PutResource(r).ok());
  }

  kafka::ConsumedMessage Received(const std::string& referral_id, int32_t partition = 0) {
    v1::Event e;
    auto* r = e.mutable_referral_received()->mutable_referral();
    r->set_source_system("emis-test");
    r->set_source_referral_id(referral_id);
    r->mutable_referrer()->set_ods_code("B86001");
    r->mutable_profile()->set_age_years(40);
    r->mutable_profile()->set_home_postcode("LS6 1BD");
    r->mutable_profile()->set_postcode_district("LS6");
    r->add_needs()->set_category(v1::NEED_CATEGORY_LONELINESS);
    events::Seal(e, referral_id, "test", absl::FromUnixSeconds(1'800'000'000));
    kafka::ConsumedMessage m;
    m.topic = kafka::TopicName(kafka::Topic::kReferralReceived, "");
    m.partition = partition;
    m.offset = offset_++;
    m.key = referral_id;
    m.value = e.SerializeAsString();
    return m;
  }

  std::vector<kafka::Outcome> Handle(const std::vector<kafka::ConsumedMessage>& batch) {
    return handler_.Handle(batch);
  }

  std::vector<v1::ReferralMatched> Matched() {
    std::vector<v1::ReferralMatched> out;
    for (const auto& m : producer_.Sent(kafka::TopicName(kafka::Topic::kReferralMatched, ""))) {
      v1::Event e;
      EXPECT_TRUE(e.ParseFromString(m.value.value_or("")));
      out.push_back(e.referral_matched());
    }
    return out;
  }

  testing::InMemoryDirectory directory_;
  signpost::testing::FakeProducer producer_;
  metrics::Registry metrics_;
  bool ready_ = true;
  int64_t offset_ = 0;
  MatchingHandler handler_{MatchingOptions{},
                           directory_,
                           directory_,
                           producer_,
                           metrics_,
                           [this] { return ready_; },
                           [] { return absl::FromUnixSeconds(1'800'000'000); }};
};

TEST_F(MatchingHandlerTest, MatchesTheNearbyResourceAndAssignsTheWorkerWithTheLowestCaseload) {
  auto outcomes = Handle({Received("ref-1")});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, Kind::kDone) << outcomes[0].reason;
  auto matched = Matched();
  ASSERT_EQ(matched.size(), 1u);
  EXPECT_EQ(matched[0].link_worker_id(), "lw-free");
  EXPECT_EQ(matched[0].network_id(), "pcn-leeds-west");
  ASSERT_EQ(matched[0].needs_size(), 1);
  ASSERT_GE(matched[0].needs(0).options_size(), 1);
  EXPECT_EQ(matched[0].needs(0).options(0).resource_id(), "walk-1");
  EXPECT_EQ(directory_.Caseload("lw-free"), 1);
  EXPECT_EQ(*directory_.AssignedWorker("ref-1"), std::optional<std::string>("lw-free"));
}

TEST_F(MatchingHandlerTest, ARedeliveryPublishesTheSameEventsAndRaisesNoCaseloadTwice) {
  kafka::ConsumedMessage received = Received("ref-1");
  ASSERT_EQ(Handle({received})[0].kind, Kind::kDone);
  ASSERT_EQ(Handle({received})[0].kind, Kind::kDone);
  auto sent = producer_.Sent(kafka::TopicName(kafka::Topic::kReferralMatched, ""));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].value, sent[1].value);  // byte for byte
  EXPECT_EQ(directory_.Caseload("lw-free"), 1);
  EXPECT_EQ(directory_.Caseload("lw-busy"), 1);
}

TEST_F(MatchingHandlerTest, TheNextReferralGoesToTheWorkerWhoseCaseloadIsNowLowest) {
  ASSERT_EQ(Handle({Received("ref-1")})[0].kind, Kind::kDone);  // lw-free: 1, lw-busy: 1
  ASSERT_EQ(Handle({Received("ref-2")})[0].kind, Kind::kDone);  // a tie: the earlier id
  auto matched = Matched();
  ASSERT_EQ(matched.size(), 2u);
  EXPECT_EQ(matched[1].link_worker_id(), "lw-busy");
}

TEST_F(MatchingHandlerTest, WhileTheDirectoryIsAwayTheReferralIsRetriedNeverSetAside) {
  directory_.Fail(absl::UnavailableError("redis away"));
  auto outcomes = Handle({Received("ref-1")});
  EXPECT_EQ(outcomes[0].kind, Kind::kRetry);
  EXPECT_TRUE(Matched().empty());
  directory_.Fail(absl::OkStatus());
  EXPECT_EQ(Handle({Received("ref-1")})[0].kind, Kind::kDone);
  EXPECT_EQ(Matched().size(), 1u);
}

TEST_F(MatchingHandlerTest, AfterARetriedMessageTheRestOfItsPartitionIsNotPublishedNow) {
  directory_.FailReadOf("ref-1", absl::UnavailableError("redis away"));
  auto outcomes = Handle({Received("ref-1", 0), Received("ref-2", 0), Received("ref-3", 1)});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].kind, Kind::kRetry);
  EXPECT_EQ(outcomes[1].kind, Kind::kRetry);  // comes again after ref-1, published then
  EXPECT_EQ(outcomes[2].kind, Kind::kDone);   // another partition goes on (kafka::PlanBatch)
  auto matched = Matched();
  ASSERT_EQ(matched.size(), 1u);
  EXPECT_EQ(matched[0].referral().source_referral_id(), "ref-3");

  directory_.FailReadOf("ref-1", absl::OkStatus());
  outcomes = Handle({Received("ref-1", 0), Received("ref-2", 0)});
  EXPECT_EQ(outcomes[0].kind, Kind::kDone);
  EXPECT_EQ(outcomes[1].kind, Kind::kDone);
  EXPECT_EQ(Matched().size(), 3u);
}

TEST_F(MatchingHandlerTest, AFailedPublishRetriesThePublishedReferralWithTheSameEventsLater) {
  producer_.FailNext(1);
  kafka::ConsumedMessage received = Received("ref-1");
  EXPECT_EQ(Handle({received})[0].kind, Kind::kRetry);
  EXPECT_TRUE(Matched().empty());
  EXPECT_EQ(Handle({received})[0].kind, Kind::kDone);
  ASSERT_EQ(Matched().size(), 1u);
  EXPECT_EQ(directory_.Caseload("lw-free"), 1);  // recorded once
}

}  // namespace
}  // namespace signpost::matching
