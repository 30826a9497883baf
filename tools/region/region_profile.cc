#include "tools/region/region_profile.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace signpost::region {
namespace {

// The rows of a CSV file of plain fields (the profile's files quote nothing), each with the
// header's number of fields; `on_row` gets the fields and the line number.
template <typename OnRow>
absl::Status ForEachRow(const std::string& file, const std::string& text,
                        const std::vector<std::string>& header, OnRow on_row) {
  // A byte-order mark (spreadsheets write one) is not part of the header.
  absl::string_view body = absl::StripPrefix(text, "\xEF\xBB\xBF");
  std::vector<std::string> lines = absl::StrSplit(body, '\n');
  if (lines.empty() || absl::StripTrailingAsciiWhitespace(lines[0]) != absl::StrJoin(header, ",")) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": the first line must be ", absl::StrJoin(header, ",")));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = absl::StripTrailingAsciiWhitespace(lines[i]);
    if (line.empty()) continue;
    if (absl::StrContains(line, '"')) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, " line ", i + 1, ": fields are plain (no quotes, no commas inside a field)"));
    }
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(file, " line ", i + 1, ": ", fields.size(),
                                                     " fields, expected ", header.size()));
    }
    if (absl::Status row = on_row(fields); !row.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, " line ", i + 1, ": ", row.message()));
    }
  }
  return absl::OkStatus();
}

bool IsLsoaCode(const std::string& code) {
  if (code.size() != 9 || !absl::StartsWith(code, "E01")) return false;
  for (size_t i = 3; i < code.size(); ++i) {
    if (!absl::ascii_isdigit(code[i])) return false;
  }
  return true;
}

// A postcode as Royal Mail writes it: an outward code of a letter or two and a digit and a letter
// or digit or two, a space, and an inward code of a digit and two letters ("LS6 1BD", "BD10 0AA",
// "W1A 1AA").
bool IsWrittenPostcode(const std::string& postcode) {
  const size_t space = postcode.find(' ');
  if (space == std::string::npos || space < 2 || space > 4 || postcode.size() != space + 4) {
    return false;
  }
  if (!absl::ascii_isupper(postcode[0])) return false;
  for (size_t i = 1; i < space; ++i) {
    if (!absl::ascii_isupper(postcode[i]) && !absl::ascii_isdigit(postcode[i])) return false;
  }
  bool digit = false;
  for (size_t i = 1; i < space; ++i) digit |= absl::ascii_isdigit(postcode[i]) != 0;
  return digit && absl::ascii_isdigit(postcode[space + 1]) &&
         absl::ascii_isupper(postcode[space + 2]) && absl::ascii_isupper(postcode[space + 3]);
}

// A name written into ids, files and the services' flags: printable, no control characters.
bool IsPlainText(const std::string& text, size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

absl::Status ParseCoordinates(const std::string& lat_text, const std::string& lon_text, double& lat,
                              double& lon) {
  // Great Britain's extent; the same bounds matching's postcode loader checks.
  // Written so that NaN (which SimpleAtod reads) fails too.
  if (!absl::SimpleAtod(lat_text, &lat) || !(lat >= 49 && lat <= 61)) {
    return absl::InvalidArgumentError(absl::StrCat("latitude '", lat_text, "' is not in the UK"));
  }
  if (!absl::SimpleAtod(lon_text, &lon) || !(lon >= -9 && lon <= 2.5)) {
    return absl::InvalidArgumentError(absl::StrCat("longitude '", lon_text, "' is not in the UK"));
  }
  return absl::OkStatus();
}

absl::Status ParseSummary(const std::string& text, RegionProfile& profile) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("profile.json: not a JSON object");
  }
  auto field = [&](const char* name) -> absl::StatusOr<const nlohmann::json*> {
    auto it = json.find(name);
    if (it == json.end())
      return absl::InvalidArgumentError(absl::StrCat("profile.json: no ", name));
    return &*it;
  };
  for (auto [name, out] :
       {std::pair{"name", &profile.name}, std::pair{"imd_edition", &profile.imd_edition}}) {
    auto value = field(name);
    if (!value.ok()) return value.status();
    if (!(*value)->is_string() || !IsPlainText((*value)->get<std::string>(), 100)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "profile.json: ", name, " must be a text of 1-100 characters, none of them control"));
    }
    *out = (*value)->get<std::string>();
  }
  // Matching takes an edition of letters and digits, 20 at most (e.g. "IoD2019").
  if (profile.imd_edition.size() > 20 ||
      !std::all_of(profile.imd_edition.begin(), profile.imd_edition.end(),
                   [](char c) { return absl::ascii_isalnum(c); })) {
    return absl::InvalidArgumentError(
        "profile.json: imd_edition must be letters and digits, 20 at most (e.g. IoD2019)");
  }
  auto shares = field("decile_share");
  if (!shares.ok()) return shares.status();
  if (!(*shares)->is_array() || (*shares)->size() != 10) {
    return absl::InvalidArgumentError("profile.json: decile_share must be 10 numbers");
  }
  for (int d = 0; d < 10; ++d) {
    const auto& share = (**shares)[d];
    if (!share.is_number() || share.get<double>() < 0 || share.get<double>() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile.json: decile_share[", d, "] must be a share between 0 and 1"));
    }
    profile.decile_share[d] = share.get<double>();
  }
  auto core20 = field("core20_population_share");
  if (!core20.ok()) return core20.status();
  // An area with no LSOA in deciles 1-2 has a share of 0.
  if (!(*core20)->is_number() ||
      !((*core20)->get<double>() >= 0 && (*core20)->get<double>() <= 1)) {
    return absl::InvalidArgumentError(
        "profile.json: core20_population_share must be a share from 0 to 1");
  }
  profile.core20_population_share = (*core20)->get<double>();
  auto languages = field("languages");
  if (!languages.ok()) return languages.status();
  if (!(*languages)->is_array() || (*languages)->empty()) {
    return absl::InvalidArgumentError("profile.json: languages must be a list");
  }
  for (size_t i = 0; i < (*languages)->size(); ++i) {
    const auto& language = (**languages)[i];
    const std::string at = absl::StrCat("profile.json: languages[", i, "]");
    auto is_code = [](const std::string& code) {
      return code.size() == 2 && absl::ascii_islower(code[0]) && absl::ascii_islower(code[1]);
    };
    if (!language.is_object() || !language.contains("code") || !language["code"].is_string() ||
        !is_code(language["code"].get<std::string>()) || !language.contains("share") ||
        !language["share"].is_number() || language["share"].get<double>() <= 0 ||
        language["share"].get<double>() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(at,
                       " must be {\"code\": a two-letter code in lower case (ISO 639-1), "
                       "\"share\": a share}"));
    }
    profile.languages.push_back(
        {language["code"].get<std::string>(), language["share"].get<double>()});
  }
  return absl::OkStatus();
}

}  // namespace

std::string OutwardCode(const std::string& postcode) {
  return postcode.substr(0, postcode.find(' '));
}

absl::StatusOr<RegionProfile> ParseRegionProfile(const RegionProfileFiles& files) {
  RegionProfile profile;
  if (absl::Status summary = ParseSummary(files.profile_json, profile); !summary.ok()) {
    return summary;
  }

  std::unordered_map<std::string, int> lsoa_index;
  absl::Status lsoas = ForEachRow(
      "lsoas.csv", files.lsoas_csv, {"lsoa", "name", "local_authority", "imd_decile", "population"},
      [&](const std::vector<std::string>& f) -> absl::Status {
        ProfileLsoa lsoa{f[0], f[1], f[2]};
        // Networks and practices are named after it (their ids, ODS codes' first letter).
        if (!IsPlainText(lsoa.local_authority, 60) ||
            !absl::ascii_isalpha(lsoa.local_authority[0])) {
          return absl::InvalidArgumentError(
              "local_authority must be a name beginning with a letter, 60 characters at most");
        }
        if (!IsLsoaCode(lsoa.code)) {
          return absl::InvalidArgumentError(
              absl::StrCat("'", lsoa.code, "' is not an LSOA code (E01 and six digits)"));
        }
        if (!absl::SimpleAtoi(f[3], &lsoa.imd_decile) || lsoa.imd_decile < 1 ||
            lsoa.imd_decile > 10) {
          return absl::InvalidArgumentError(absl::StrCat("imd_decile '", f[3], "' is not 1-10"));
        }
        if (!f[4].empty() && (!absl::SimpleAtoi(f[4], &lsoa.population) || lsoa.population < 0)) {
          return absl::InvalidArgumentError(absl::StrCat("population '", f[4], "' is not a count"));
        }
        if (!lsoa_index.emplace(lsoa.code, static_cast<int>(profile.lsoas.size())).second) {
          return absl::InvalidArgumentError(absl::StrCat(lsoa.code, " is listed twice"));
        }
        profile.lsoas.push_back(std::move(lsoa));
        return absl::OkStatus();
      });
  if (!lsoas.ok()) return lsoas;
  if (profile.lsoas.empty()) return absl::InvalidArgumentError("lsoas.csv: no LSOAs");

  std::unordered_map<std::string, int> district_index;
  absl::Status districts = ForEachRow(
      "postcode_districts.csv", files.postcode_districts_csv,
      {"district", "post_town", "latitude", "longitude"},
      [&](const std::vector<std::string>& f) -> absl::Status {
        ProfileDistrict district{f[0], f[1]};
        if (!IsWrittenPostcode(district.code + " 1AA") || !IsPlainText(district.post_town, 60) ||
            !absl::ascii_isalpha(district.post_town[0])) {
          return absl::InvalidArgumentError(
              "a district needs its outward code (LS6) and its post town (a name)");
        }
        if (auto at = ParseCoordinates(f[2], f[3], district.latitude, district.longitude);
            !at.ok()) {
          return at;
        }
        if (!district_index.emplace(district.code, static_cast<int>(profile.districts.size()))
                 .second) {
          return absl::InvalidArgumentError(absl::StrCat(district.code, " is listed twice"));
        }
        profile.districts.push_back(std::move(district));
        return absl::OkStatus();
      });
  if (!districts.ok()) return districts;

  std::unordered_map<std::string, bool> seen_postcodes;
  absl::Status postcodes = ForEachRow(
      "postcodes.csv", files.postcodes_csv, {"postcode", "latitude", "longitude", "lsoa"},
      [&](const std::vector<std::string>& f) -> absl::Status {
        ProfilePostcode postcode{f[0]};
        if (!IsWrittenPostcode(postcode.postcode)) {
          return absl::InvalidArgumentError(
              absl::StrCat("'", postcode.postcode,
                           "' is not a postcode written in capitals with its space (LS6 1BD)"));
        }
        if (auto at = ParseCoordinates(f[1], f[2], postcode.latitude, postcode.longitude);
            !at.ok()) {
          return at;
        }
        auto lsoa = lsoa_index.find(f[3]);
        if (lsoa == lsoa_index.end()) {
          return absl::InvalidArgumentError(absl::StrCat("LSOA ", f[3], " is not in lsoas.csv"));
        }
        postcode.lsoa = lsoa->second;
        if (!district_index.contains(OutwardCode(postcode.postcode))) {
          return absl::InvalidArgumentError(absl::StrCat(
              "district ", OutwardCode(postcode.postcode), " is not in postcode_districts.csv"));
        }
        if (!seen_postcodes.emplace(postcode.postcode, true).second) {
          return absl::InvalidArgumentError(absl::StrCat(postcode.postcode, " is listed twice"));
        }
        profile.postcodes.push_back(std::move(postcode));
        return absl::OkStatus();
      });
  if (!postcodes.ok()) return postcodes;
  if (profile.postcodes.empty()) return absl::InvalidArgumentError("postcodes.csv: no postcodes");

  // The summary must say what the rows say, else the README's figures and the region disagree.
  std::array<int, 10> per_decile{};
  for (const auto& lsoa : profile.lsoas) ++per_decile[lsoa.imd_decile - 1];
  for (int d = 0; d < 10; ++d) {
    double share = static_cast<double>(per_decile[d]) / static_cast<double>(profile.lsoas.size());
    if (std::abs(share - profile.decile_share[d]) > 0.001) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile.json: decile_share[", d, "] is ", profile.decile_share[d],
                       " but lsoas.csv gives ", share, " for decile ", d + 1));
    }
  }
  return profile;
}

}  // namespace signpost::region
