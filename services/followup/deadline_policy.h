#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::followup {

// When first contact is due and when follow-ups happen. No national standard exists: these are
// local figures (2-3 working days for first contact is common practice), so all are settings.
struct DeadlinePolicy {
  int first_contact_working_days = 3;
  int priority_first_contact_working_days = 1;
  // A first contact not made once this share of its window has passed is "at risk".
  double at_risk_fraction = 0.66;
  // Check-ins after a connection (4-6 weeks is typical; two by default).
  std::vector<absl::Duration> check_ins = {absl::Hours(24 * 14), absl::Hours(24 * 42)};
  std::set<absl::CivilDay> holidays;  // bank holidays: not working days
  absl::TimeZone zone = absl::UTCTimeZone();
};

// `start` moved on by `days` working days (Monday to Friday, not a holiday) in `zone`, keeping
// its time of day: Friday 10:00 + 1 is Monday 10:00; Saturday 10:00 + 1 is Monday 10:00.
absl::Time AddWorkingDays(absl::Time start, int days, const std::set<absl::CivilDay>& holidays,
                          absl::TimeZone zone);

absl::Time FirstContactDue(const DeadlinePolicy& policy, absl::Time assigned_at,
                           v1::Urgency urgency);

absl::Time FirstContactAtRisk(const DeadlinePolicy& policy, absl::Time assigned_at, absl::Time due);

// Dates as YYYY-MM-DD; INVALID_ARGUMENT naming the first one that is not a date.
absl::StatusOr<std::set<absl::CivilDay>> ParseHolidays(const std::vector<std::string>& dates);

}  // namespace signpost::followup
