#include "services/monitor/postcode_file.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace signpost::monitor {

absl::StatusOr<std::vector<geo::PostcodeRow>> ReadPostcodeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  std::getline(in, line);  // header
  std::vector<geo::PostcodeRow> rows;
  std::vector<std::string> problems;
  for (int number = 2; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<geo::PostcodeRow> row = geo::ParsePostcodeRow(line);
    if (row.ok()) {
      rows.push_back(*std::move(row));
    } else if (problems.size() < 10) {
      problems.push_back(absl::StrCat("line ", number, ": ", row.status().message()));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", absl::StrJoin(problems, "; ")));
  }
  return rows;
}

}  // namespace signpost::monitor
