#include "services/monitor/flow_stats.h"

#include <gtest/gtest.h>

#include "common/events/event_factory.h"

namespace signpost::monitor {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795440000);

kafka::ConsumedMessage Message(const std::string& topic, absl::Time at, std::string value,
                               kafka::Headers headers = {}) {
  kafka::ConsumedMessage m;
  m.topic = "p." + topic;
  m.key = "k";
  m.value = std::move(value);
  m.headers = std::move(headers);
  m.timestamp_ms = absl::ToUnixMillis(at);
  return m;
}

std::string Event(v1::Event e) {
  events::Seal(e, "r1", "test", kNow);
  return e.SerializeAsString();
}

TEST(FlowWindowTest, RatesCountTheLastMinuteOnly) {
  FlowWindow w;
  for (int i = 0; i < 120; ++i) w.Add(kNow - absl::Seconds(90), 10);  // too old by `now`
  for (int i = 0; i < 60; ++i) w.Add(kNow - absl::Seconds(i % 30), 100);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow), 1.0);
  EXPECT_DOUBLE_EQ(w.BytesPerSecond(kNow), 100.0);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow + absl::Seconds(120)), 0.0);
  // Messages arrive out of time order (partitions interleave): an old one does not wipe a newer
  // second sharing its bucket.
  w.Add(kNow - absl::Seconds(60), 5);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow), 1.0);
}

TEST(FlowStatsTest, RatesDeadLettersRejectionsAlertsAndUnmetNeeds) {
  FlowStats stats("p.");
  for (int i = 0; i < 30; ++i) {
    v1::Event e;
    e.mutable_referral_received();
    stats.Observe(Message("signpost.referral.received", kNow - absl::Seconds(i), Event(e)));
  }
  for (int i = 0; i < 3; ++i) {
    stats.Observe(Message("signpost.deadletter", kNow, "garbage",
                          {{"dlq-reason", i < 2 ? "not an event" : "no payload"},
                           {"dlq-source-topic", "p.signpost.referral.received"},
                           {"dlq-source-partition", "4"},
                           {"dlq-source-offset", std::to_string(100 + i)},
                           {"dlq-consumer-group", "p.signpost-matching"}}));
  }
  v1::Event rejected;
  rejected.mutable_referral_rejected()->set_source_system("emis-north");
  rejected.mutable_referral_rejected()->set_reason("invalid NHS number");
  stats.Observe(Message("signpost.referral.rejected", kNow, Event(rejected)));
  stats.Observe(Message("signpost.referral.rejected", kNow, Event(rejected)));
  v1::Event breach;
  breach.mutable_case_event()->set_alert(v1::CASE_ALERT_SLA_BREACHED);
  stats.Observe(Message("signpost.followup.events", kNow, Event(breach)));
  v1::Event unmet;
  unmet.mutable_need_unmet()->set_postcode_district("LS6");
  unmet.mutable_need_unmet()->mutable_need()->set_category(v1::NEED_CATEGORY_DEBT_AND_MONEY);
  stats.Observe(Message("signpost.need.unmet", kNow, Event(unmet)));
  stats.Observe(Message("signpost.need.unmet", kNow, Event(unmet)));

  v1::FlowSnapshot s = stats.Snapshot(kNow);
  const v1::TopicFlow* received = nullptr;
  for (const auto& t : s.topics()) {
    if (t.topic() == "signpost.referral.received") received = &t;
  }
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->messages_total(), 30);
  EXPECT_DOUBLE_EQ(received->messages_per_second(), 0.5);

  ASSERT_EQ(s.dead_letters_size(), 2);
  EXPECT_EQ(s.dead_letters(0).reason(), "no payload");
  EXPECT_EQ(s.dead_letters(1).reason(), "not an event");
  EXPECT_EQ(s.dead_letters(1).count(), 2);
  EXPECT_EQ(s.dead_letters(1).source_topic(), "signpost.referral.received");
  ASSERT_EQ(s.latest_dead_letters_size(), 3);
  EXPECT_EQ(s.latest_dead_letters(0).source_offset(), 102);  // newest first
  EXPECT_EQ(s.latest_dead_letters(0).group(), "signpost-matching");
  EXPECT_EQ(s.latest_dead_letters(0).source_partition(), 4);

  ASSERT_EQ(s.rejections_size(), 1);
  EXPECT_EQ(s.rejections(0).source_system(), "emis-north");
  EXPECT_EQ(s.rejections(0).count(), 2);
  EXPECT_EQ(s.sla_breaches(), 1);
  EXPECT_EQ(s.sla_at_risk(), 0);
  ASSERT_EQ(s.unmet_needs_size(), 1);
  EXPECT_EQ(s.unmet_needs(0).postcode_district(), "LS6");
  EXPECT_EQ(s.unmet_needs(0).category(), v1::NEED_CATEGORY_DEBT_AND_MONEY);
  EXPECT_EQ(s.unmet_needs(0).count(), 2);
}

}  // namespace
}  // namespace signpost::monitor
