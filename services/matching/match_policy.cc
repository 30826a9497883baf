#include "services/matching/match_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace signpost::matching {

absl::Status ParseNeedRadii(const std::vector<std::string>& entries,
                            std::map<v1::NeedCategory, double>& radius_km) {
  for (const std::string& entry : entries) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("need radius '", entry, "': expected NEED=KM, e.g. physical_activity=3"));
    }
    std::string name =
        absl::StrCat("NEED_CATEGORY_", absl::AsciiStrToUpper(absl::StripAsciiWhitespace(parts[0])));
    v1::NeedCategory need;
    if (!v1::NeedCategory_Parse(name, &need) || need == v1::NEED_CATEGORY_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("need radius '", entry, "': unknown need category '", parts[0], "'"));
    }
    double km = 0;
    if (!absl::SimpleAtod(parts[1], &km) || !(km >= 0.1 && km <= 200.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("need radius '", entry, "': radius must be a number of km from 0.1 to 200"));
    }
    radius_km[need] = km;
  }
  return absl::OkStatus();
}

}  // namespace signpost::matching
