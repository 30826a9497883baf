#pragma once

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace signpost::monitor {

// The Monday that begins the UTC week of a day: the funnel and the gap report count by week so
// that a change in who is reached, or in what is missing, shows as a trend.
inline absl::CivilDay WeekStart(absl::CivilDay day) {
  // absl::Weekday counts from Monday (0) to Sunday (6).
  return day - static_cast<int>(absl::GetWeekday(day));
}

inline absl::CivilDay WeekStart(absl::Time at) {
  return WeekStart(absl::ToCivilDay(at, absl::UTCTimeZone()));
}

}  // namespace signpost::monitor
