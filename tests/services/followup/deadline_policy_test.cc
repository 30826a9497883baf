#include "services/followup/deadline_policy.h"

#include <gtest/gtest.h>

namespace signpost::followup {
namespace {

absl::TimeZone London() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/London", &zone));
  return zone;
}

absl::Time At(int y, int m, int d, int h, absl::TimeZone zone) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, h, 0, 0), zone);
}

TEST(DeadlinePolicyTest, WorkingDaysSkipWeekendsAndHolidaysAndKeepTheTimeOfDay) {
  absl::TimeZone zone = London();
  struct Case {
    absl::Time start;
    int days;
    std::set<absl::CivilDay> holidays;
    absl::Time due;
  };
  // 2026-11-23 is a Monday.
  std::vector<Case> cases = {
      {At(2026, 11, 23, 10, zone), 3, {}, At(2026, 11, 26, 10, zone)},  // Mon -> Thu
      {At(2026, 11, 27, 10, zone), 1, {}, At(2026, 11, 30, 10, zone)},  // Fri -> Mon
      {At(2026, 11, 27, 10, zone), 3, {}, At(2026, 12, 2, 10, zone)},   // Fri -> Wed
      {At(2026, 11, 28, 15, zone), 1, {}, At(2026, 11, 30, 15, zone)},  // Sat -> Mon
      {At(2026, 12, 24, 9, zone),
       2,  // Christmas
       {absl::CivilDay(2026, 12, 25), absl::CivilDay(2026, 12, 28)},
       At(2026, 12, 30, 9, zone)},
      // Across the clocks going back (25 Oct 2026): still 10:00 local.
      {At(2026, 10, 23, 10, zone), 1, {}, At(2026, 10, 26, 10, zone)},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(AddWorkingDays(c.start, c.days, c.holidays, zone), c.due)
        << absl::FormatTime(c.start, zone) << " + " << c.days;
  }
}

TEST(DeadlinePolicyTest, PriorityReferralsAreDueSoonerAndAtRiskComesFirst) {
  DeadlinePolicy policy;
  policy.zone = London();
  policy.first_contact_working_days = 3;
  policy.priority_first_contact_working_days = 1;
  absl::Time monday = At(2026, 11, 23, 10, policy.zone);
  EXPECT_EQ(FirstContactDue(policy, monday, v1::URGENCY_ROUTINE),
            At(2026, 11, 26, 10, policy.zone));
  EXPECT_EQ(FirstContactDue(policy, monday, v1::URGENCY_PRIORITY),
            At(2026, 11, 24, 10, policy.zone));
  absl::Time due = FirstContactDue(policy, monday, v1::URGENCY_ROUTINE);
  absl::Time at_risk = FirstContactAtRisk(policy, monday, due);
  EXPECT_GT(at_risk, monday);
  EXPECT_LT(at_risk, due);
}

TEST(DeadlinePolicyTest, HolidaysAreDates) {
  auto ok = ParseHolidays({"2026-12-25", "2026-12-28"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  auto bad = ParseHolidays({"2026-12-25", "Boxing Day"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'Boxing Day'"), absl::string_view::npos);
}

}  // namespace
}  // namespace signpost::followup
