#include "services/followup/access_audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "tests/support/fake_producer.h"

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;

const absl::Time kAt = absl::FromUnixSeconds(1764576000);

v1::Case CaseWithDetails() {
  v1::Case c;
  c.set_referral_id("r1");
  c.mutable_identity()->set_given_name("Amira");
  c.mutable_identity()->set_phone("07700900123");
  c.mutable_identity()->add_address_lines("1 Cardigan Road");
  c.set_referral_notes("Prefers mornings.");
  c.set_plan("Walking group");
  return c;
}

TEST(AccessAuditTest, ADeliveryIsRecordedWithTheFieldsAndNotTheirValues) {
  signpost::testing::FakeProducer producer;
  AccessAudit audit(producer, "t.", "fu-1", [] { return kAt; });
  ASSERT_TRUE(
      audit.Record("r1", "lw-1", "signpost.v1.FollowUpService/GetCase", "", CaseWithDetails())
          .ok());
  auto sent = producer.Sent("t.signpost.audit.access");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].key, "r1");
  kafka::ConsumedMessage m;
  m.value = sent[0].value;
  auto event = events::ParseEvent(m);
  ASSERT_TRUE(event.ok()) << event.status();
  const auto& a = event->personal_data_access();
  EXPECT_EQ(event->envelope().referral_id(), "r1");
  EXPECT_EQ(event->envelope().type(), "personal_data.accessed");
  EXPECT_EQ(event->envelope().occurred_at().seconds(), absl::ToUnixSeconds(kAt));
  EXPECT_EQ(a.actor(), "lw-1");
  EXPECT_EQ(a.purpose(), "case work");
  EXPECT_EQ(a.instance(), "fu-1");
  EXPECT_THAT(a.fields(), ElementsAre("identity.given_name", "identity.address_lines",
                                      "identity.phone", "referral_notes"));
  for (const char* value : {"Amira", "07700900123", "Cardigan", "mornings"}) {
    EXPECT_EQ(sent[0].value->find(value), std::string::npos) << value;
  }
}

TEST(AccessAuditTest, AnUnrecordedDeliveryIsUnavailable) {
  signpost::testing::FakeProducer producer;
  producer.FailNext(1);
  AccessAudit audit(producer, "", "fu-1", [] { return kAt; });
  absl::Status s = audit.Record("r1", "lw-1", "GetCase", "why", CaseWithDetails());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("not given"));
}

TEST(AccessAuditTest, ABrokerThatDoesNotAnswerInTimeIsUnavailableAndAPermanentErrorInternal) {
  signpost::testing::FakeProducer producer;
  AccessAudit audit(
      producer, "", "fu-1", [] { return kAt; }, absl::Milliseconds(50));
  producer.Hold(true);
  EXPECT_EQ(audit.Record("r1", "lw-1", "GetCase", "", CaseWithDetails()).code(),
            absl::StatusCode::kUnavailable);
  producer.Hold(false);
  producer.FailNext(1, absl::InvalidArgumentError("record too large"));
  EXPECT_EQ(audit.Record("r1", "lw-1", "GetCase", "", CaseWithDetails()).code(),
            absl::StatusCode::kInternal);
}

TEST(AccessAuditTest, StrippingLeavesTheCaseWorkButNoPersonalFields) {
  v1::Case c = CaseWithDetails();
  StripPersonalFields(c);
  EXPECT_TRUE(PersonalFields(c).empty());
  EXPECT_EQ(c.plan(), "Walking group");
  EXPECT_EQ(c.referral_id(), "r1");
}

}  // namespace
}  // namespace signpost::followup
