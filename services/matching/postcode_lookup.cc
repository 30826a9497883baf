#include "services/matching/postcode_lookup.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/geo/postcode_row.h"
#include "services/matching/redis_keys.h"

namespace signpost::matching {

std::string PostcodeLookup::KeyOf(const std::string& code) { return keys::Postcode(code); }

absl::StatusOr<int> PostcodeLookup::LoadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  std::getline(in, line);  // header
  std::vector<redis::Command> commands;
  std::vector<std::string> problems;
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<geo::PostcodeRow> row = geo::ParsePostcodeRow(line);
    if (!row.ok()) {
      problems.push_back(absl::StrCat("line ", number, ": ", row.status().message()));
      continue;
    }
    // The numbers are stored as written, not as read back, so nothing is rounded.
    std::vector<std::string> f = absl::StrSplit(line, ',');
    commands.push_back({"HSET", KeyOf(row->code), kFields[0], f[1], kFields[1], f[2], kFields[2],
                        f[3], kFields[3], f[4]});
  }
  if (!problems.empty()) {
    if (problems.size() > 10) problems.resize(10);
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  for (size_t i = 0; i < commands.size(); i += 1000) {
    std::vector<redis::Command> chunk(commands.begin() + i,
                                      commands.begin() + std::min(commands.size(), i + 1000));
    auto replies = redis_.Pipeline(chunk);
    if (!replies.ok()) return replies.status();
  }
  absl::MutexLock lock(&mu_);
  remembered_.clear();
  ++generation_;
  return static_cast<int>(commands.size());
}

absl::StatusOr<PersonLocation> PostcodeLookup::Locate(const std::string& postcode,
                                                      const std::string& district) {
  const std::string key = absl::StrCat(postcode, std::string(1, '\0'), district);
  const absl::Time now = absl::Now();
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = remembered_.find(key); it != remembered_.end() && it->second.until > now) {
      return it->second.location;
    }
    generation = generation_;
  }
  auto located = Fetch(postcode, district);
  // An unknown postcode is not remembered: it may be loaded any moment.
  if (!located.ok() || located->basis == PersonLocation::Basis::kNone) return located;
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return located;  // a load happened meanwhile: not remembered
  if (remembered_.size() >= max_remembered_) remembered_.clear();
  remembered_[key] = {*located, now + remember_};
  return located;
}

absl::StatusOr<PersonLocation> PostcodeLookup::Fetch(const std::string& postcode,
                                                     const std::string& district) {
  auto hmget = [](const std::string& code) {
    redis::Command c = {"HMGET", KeyOf(code)};
    c.insert(c.end(), std::begin(kFields), std::end(kFields));
    return c;
  };
  auto replies = redis_.Pipeline({hmget(postcode), hmget(district)});
  if (!replies.ok()) return replies.status();
  return FromRecords((*replies)[0], (*replies)[1]);
}

PersonLocation PostcodeLookup::FromRecords(const redis::Reply& postcode,
                                           const redis::Reply& district) {
  PersonLocation out;
  for (const redis::Reply* record : {&postcode, &district}) {
    const auto& f = record->elements;
    if (f.size() < 4 || f[0].is_nil() || f[1].is_nil()) continue;
    double lat = 0, lon = 0;
    if (!absl::SimpleAtod(f[0].str, &lat) || !absl::SimpleAtod(f[1].str, &lon)) continue;
    out.basis =
        record == &postcode ? PersonLocation::Basis::kPostcode : PersonLocation::Basis::kDistrict;
    out.point.set_latitude(lat);
    out.point.set_longitude(lon);
    if (!f[2].is_nil()) out.lsoa_code = f[2].str;
    if (!f[3].is_nil()) (void)absl::SimpleAtoi(f[3].str, &out.imd_decile);
    return out;
  }
  return out;
}

}  // namespace signpost::matching
