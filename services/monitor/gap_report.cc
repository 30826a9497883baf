#include "services/monitor/gap_report.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/events/timestamp.h"
#include "common/status/field_violations.h"
#include "services/monitor/week.h"

namespace signpost::monitor {

void GapReportBook::Observe(const v1::Event& event) {
  if (!event.has_need_unmet()) return;
  const v1::NeedUnmet& unmet = event.need_unmet();
  absl::CivilDay day =
      absl::ToCivilDay(events::FromTimestamp(event.envelope().occurred_at()), absl::UTCTimeZone());
  absl::MutexLock lock(&mu_);
  Row& row = days_[day][{unmet.postcode_district(), unmet.need().category()}];
  row.unmet += 1;
  for (const auto& reason : unmet.reasons()) row.reasons[reason] += 1;
}

absl::StatusOr<v1::GapReport> GapReportBook::Report(const v1::GapReportRequest& request,
                                                    absl::CivilDay today) const {
  absl::CivilDay since, until = today;
  std::vector<FieldViolation> violations;
  if (!request.since().empty() && !absl::ParseCivilTime(request.since(), &since)) {
    violations.push_back({"since", "not a date (YYYY-MM-DD)"});
  }
  if (!request.until().empty() && !absl::ParseCivilTime(request.until(), &until)) {
    violations.push_back({"until", "not a date (YYYY-MM-DD)"});
  }
  absl::MutexLock lock(&mu_);
  if (request.since().empty()) since = days_.empty() ? today : days_.begin()->first;
  if (violations.empty() && until < since) violations.push_back({"until", "before since"});
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);

  std::map<std::pair<std::string, int>, Row> merged;
  std::map<absl::CivilDay, std::map<int, int64_t>> weeks;  // week -> category -> unmet
  for (auto it = days_.lower_bound(since); it != days_.end() && it->first <= until; ++it) {
    std::map<int, int64_t>& week = weeks[WeekStart(it->first)];
    for (const auto& [key, row] : it->second) {
      Row& m = merged[key];
      m.unmet += row.unmet;
      for (const auto& [reason, count] : row.reasons) m.reasons[reason] += count;
      week[key.second] += row.unmet;
    }
  }
  v1::GapReport report;
  report.set_since(absl::FormatCivilTime(since));
  report.set_until(absl::FormatCivilTime(until));
  for (const auto& [key, row] : merged) {
    v1::GapRow* out = report.add_rows();
    out->set_postcode_district(key.first);
    out->set_category(static_cast<v1::NeedCategory>(key.second));
    out->set_unmet(row.unmet);
    std::vector<std::pair<std::string, int64_t>> reasons(row.reasons.begin(), row.reasons.end());
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [reason, count] : reasons) {
      v1::ReasonCount* r = out->add_reasons();
      r->set_reason(reason);
      r->set_count(count);
    }
  }
  std::stable_sort(report.mutable_rows()->begin(), report.mutable_rows()->end(),
                   [](const v1::GapRow& a, const v1::GapRow& b) { return a.unmet() > b.unmet(); });
  for (const auto& [start, categories] : weeks) {
    v1::GapWeek* week = report.add_weeks();
    week->set_week_start(absl::FormatCivilTime(start));
    for (const auto& [category, unmet] : categories) {
      week->set_unmet(week->unmet() + unmet);
      v1::GapCategoryCount* count = week->add_categories();
      count->set_category(static_cast<v1::NeedCategory>(category));
      count->set_unmet(unmet);
    }
    std::stable_sort(week->mutable_categories()->begin(), week->mutable_categories()->end(),
                     [](const v1::GapCategoryCount& a, const v1::GapCategoryCount& b) {
                       return a.unmet() > b.unmet();
                     });
  }
  return report;
}

std::string GapReportBook::Csv(const v1::GapReport& report) {
  auto quote = [](const std::string& text) {
    return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
  };
  std::string out = "postcode_district,need_category,unmet,reasons\n";
  for (const auto& row : report.rows()) {
    std::vector<std::string> reasons;
    for (const auto& r : row.reasons())
      reasons.push_back(absl::StrCat(r.reason(), " (", r.count(), ")"));
    absl::StrAppend(&out, quote(row.postcode_district()), ",",
                    absl::AsciiStrToLower(
                        absl::StripPrefix(v1::NeedCategory_Name(row.category()), "NEED_CATEGORY_")),
                    ",", row.unmet(), ",", quote(absl::StrJoin(reasons, "; ")), "\n");
  }
  return out;
}

}  // namespace signpost::monitor
