#include "common/events/event_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace signpost::events {
namespace {

using ::testing::HasSubstr;

TEST(EventFactoryTest, EventIdsAreUuidV4AndUnique) {
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewEventId();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(EventFactoryTest, TraceparentContinuesAParentTrace) {
  std::string root = NewTraceparent();
  EXPECT_TRUE(std::regex_match(root, std::regex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$"))) << root;
  std::string child = NewTraceparent(root);
  EXPECT_EQ(child.substr(0, 36), root.substr(0, 36));    // same trace id
  EXPECT_NE(child.substr(36, 16), root.substr(36, 16));  // new span id
  std::string fresh = NewTraceparent("garbage");
  EXPECT_NE(fresh.substr(3, 32), root.substr(3, 32));
}

TEST(EventFactoryTest, ANameBasedTraceparentIsTheSameForTheSameNameAndParent) {
  std::string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  std::string child = NameBasedTraceparent("event-1", parent);
  EXPECT_TRUE(std::regex_match(child, std::regex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$"))) << child;
  EXPECT_EQ(child, NameBasedTraceparent("event-1", parent));
  EXPECT_EQ(child.substr(0, 36), parent.substr(0, 36));  // the parent's trace
  EXPECT_NE(child.substr(36, 16), parent.substr(36, 16));
  EXPECT_NE(NameBasedTraceparent("event-2", parent), child);
  std::string own = NameBasedTraceparent("event-1");
  EXPECT_TRUE(std::regex_match(own, std::regex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$"))) << own;
  EXPECT_EQ(own, NameBasedTraceparent("event-1", "garbage-is-no-parent"));
  EXPECT_NE(own.substr(3, 32), parent.substr(3, 32));
}

TEST(EventFactoryTest, SealAndToMessageFillEnvelopeAndHeaders) {
  v1::Event event;
  event.mutable_referral_received()->mutable_referral()->set_source_system("emis-test");
  std::string parent = NewTraceparent();
  Seal(event, "ref-123", "signpost-intake/test", absl::FromUnixSeconds(1700000000), parent,
       "cause-1");
  const auto& env = event.envelope();
  EXPECT_EQ(env.type(), "referral.received");
  EXPECT_EQ(env.schema_version(), kSchemaVersion);
  EXPECT_EQ(env.referral_id(), "ref-123");
  EXPECT_EQ(env.occurred_at().seconds(), 1700000000);
  EXPECT_EQ(env.producer(), "signpost-intake/test");
  EXPECT_EQ(env.causation_id(), "cause-1");
  EXPECT_EQ(env.trace().traceparent().substr(0, 36), parent.substr(0, 36));

  auto message = ToMessage(event, "signpost.referral.received", "ref-123");
  EXPECT_EQ(message.key, "ref-123");
  EXPECT_EQ(kafka::FindHeader(message.headers, kafka::kHeaderEventType), "referral.received");
  EXPECT_EQ(kafka::FindHeader(message.headers, kafka::kHeaderSchemaVersion), "1");
  EXPECT_EQ(kafka::FindHeader(message.headers, kafka::kHeaderTraceparent),
            env.trace().traceparent());

  kafka::ConsumedMessage consumed;
  consumed.value = message.value;
  auto parsed = ParseEvent(consumed);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->envelope().event_id(), env.event_id());
  EXPECT_EQ(parsed->referral_received().referral().source_system(), "emis-test");
}

TEST(EventFactoryTest, ParseEventRejectsPoisonWithAReason) {
  kafka::ConsumedMessage garbage;
  garbage.value = std::string("\xff\xff\xff not protobuf");
  EXPECT_EQ(ParseEvent(garbage).status().code(), absl::StatusCode::kInvalidArgument);

  kafka::ConsumedMessage tombstone;
  EXPECT_THAT(std::string(ParseEvent(tombstone).status().message()), HasSubstr("tombstone"));

  v1::Event no_payload;
  no_payload.mutable_envelope()->set_event_id("e");
  kafka::ConsumedMessage empty;
  empty.value = no_payload.SerializeAsString();
  EXPECT_THAT(std::string(ParseEvent(empty).status().message()), HasSubstr("no payload"));

  v1::Event future;
  future.mutable_need_unmet();
  Seal(future, "r", "p", absl::Now());
  future.mutable_envelope()->set_schema_version(kSchemaVersion + 1);
  kafka::ConsumedMessage newer;
  newer.value = future.SerializeAsString();
  EXPECT_THAT(std::string(ParseEvent(newer).status().message()), HasSubstr("schema version"));
}

}  // namespace
}  // namespace signpost::events
