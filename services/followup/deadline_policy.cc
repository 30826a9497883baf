#include "services/followup/deadline_policy.h"

#include "absl/strings/str_cat.h"

namespace signpost::followup {
namespace {

bool IsWorkingDay(absl::CivilDay day, const std::set<absl::CivilDay>& holidays) {
  absl::Weekday weekday = absl::GetWeekday(day);
  if (weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday) return false;
  return holidays.count(day) == 0;
}

}  // namespace

absl::Time AddWorkingDays(absl::Time start, int days, const std::set<absl::CivilDay>& holidays,
                          absl::TimeZone zone) {
  absl::CivilSecond local = absl::ToCivilSecond(start, zone);
  absl::CivilDay day(local);
  for (int counted = 0; counted < days;) {
    ++day;
    if (IsWorkingDay(day, holidays)) ++counted;
  }
  absl::CivilSecond due(day.year(), day.month(), day.day(), local.hour(), local.minute(),
                        local.second());
  return absl::FromCivil(due, zone);
}

absl::Time FirstContactDue(const DeadlinePolicy& policy, absl::Time assigned_at,
                           v1::Urgency urgency) {
  int days = urgency == v1::URGENCY_PRIORITY ? policy.priority_first_contact_working_days
                                             : policy.first_contact_working_days;
  return AddWorkingDays(assigned_at, days, policy.holidays, policy.zone);
}

absl::Time FirstContactAtRisk(const DeadlinePolicy& policy, absl::Time assigned_at,
                              absl::Time due) {
  return assigned_at + (due - assigned_at) * policy.at_risk_fraction;
}

absl::StatusOr<std::set<absl::CivilDay>> ParseHolidays(const std::vector<std::string>& dates) {
  std::set<absl::CivilDay> days;
  for (const std::string& date : dates) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(date, &day)) {
      return absl::InvalidArgumentError(
          absl::StrCat("holiday '", date, "' is not a date (YYYY-MM-DD)"));
    }
    days.insert(day);
  }
  return days;
}

}  // namespace signpost::followup
