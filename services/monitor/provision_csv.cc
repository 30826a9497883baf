#include "services/monitor/provision_csv.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace signpost::monitor {
namespace {

// A spreadsheet takes a cell that begins with one of these for a formula, quoted or not: such a
// text is given a leading apostrophe, so it stays text.
std::string Quoted(const std::string& text) {
  const bool formula =
      !text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos;
  return absl::StrCat("\"", formula ? "'" : "", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string Number(bool present, double value) {
  return present ? absl::StrFormat("%.2f", value) : "";
}

void AddRow(std::string& out, const char* kind, const v1::ProvisionRow& row) {
  absl::StrAppend(
      &out, kind, ",", Quoted(row.area()), ",",
      row.suppressed() ? "" : absl::StrCat(row.referrals()), ",",
      absl::StrFormat("%.1f", row.caseload_room()), ",", row.link_workers(), ",", row.resources(),
      ",", row.resource_places(), ",", row.resource_places_available(), ",", row.unmet_needs(), ",",
      Number(row.has_median_days_to_first_contact(), row.median_days_to_first_contact()), ",",
      Number(row.has_resource_places_per_referral(), row.resource_places_per_referral()), ",",
      Number(row.has_caseload_room_per_referral(), row.caseload_room_per_referral()), ",",
      row.suppressed() ? "true" : "false", "\n");
}

}  // namespace

std::string ProvisionCsv(const v1::Provision& provision) {
  std::string out =
      "by,area,referrals,caseload_room,link_workers,resources,resource_places,"
      "resource_places_available,unmet_needs,median_days_to_first_contact,"
      "resource_places_per_referral,caseload_room_per_referral,withheld\n";
  for (const auto& row : provision.quintiles()) AddRow(out, "imd_quintile", row);
  for (const auto& row : provision.districts()) AddRow(out, "postcode_district", row);
  return out;
}

}  // namespace signpost::monitor
