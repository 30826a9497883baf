#include "common/geo/postcode_row.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace signpost::geo {

absl::StatusOr<PostcodeRow> ParsePostcodeRow(absl::string_view line) {
  std::vector<absl::string_view> f = absl::StrSplit(line, ',');
  PostcodeRow row;
  // The bounds are written so that NaN (which SimpleAtod reads) is refused too.
  if (f.size() < 5 || !absl::SimpleAtod(f[1], &row.latitude) ||
      !absl::SimpleAtod(f[2], &row.longitude) || !absl::SimpleAtoi(f[4], &row.imd_decile) ||
      !(row.latitude >= 49 && row.latitude <= 61) ||
      !(row.longitude >= -9 && row.longitude <= 2.5) || row.imd_decile < 0 || row.imd_decile > 10) {
    return absl::InvalidArgumentError(
        "expected postcode,latitude,longitude,lsoa,imd_decile within the UK");
  }
  row.code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(f[0]));
  row.lsoa = std::string(f[3]);
  return row;
}

std::optional<std::string> NormalisePostcode(absl::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c == ' ') continue;
    if (!absl::ascii_isalnum(c)) return std::nullopt;
    compact.push_back(absl::ascii_toupper(c));
  }
  if (compact.size() < 5 || compact.size() > 7) return std::nullopt;
  std::string canonical =
      absl::StrCat(compact.substr(0, compact.size() - 3), " ", compact.substr(compact.size() - 3));
  if (canonical == "GIR 0AA") return canonical;
  // Royal Mail rules: outward code A9, A99, AA9, AA99, A9A or AA9A; inward code 9AA.
  auto in = [](char c, absl::string_view set) { return set.find(c) != absl::string_view::npos; };
  auto letter = [](char c) { return absl::ascii_isupper(c); };
  auto digit = [](char c) { return absl::ascii_isdigit(c); };
  absl::string_view out(compact.data(), compact.size() - 3);
  absl::string_view inward(compact.data() + compact.size() - 3, 3);
  if (!digit(inward[0]) || !letter(inward[1]) || !letter(inward[2]) || in(inward[1], "CIKMOV") ||
      in(inward[2], "CIKMOV")) {
    return std::nullopt;
  }
  if (!letter(out[0]) || in(out[0], "QVX")) return std::nullopt;
  bool ok = false;
  switch (out.size()) {
    case 2:  // A9
      ok = digit(out[1]);
      break;
    case 3:  // A99, AA9, A9A
      ok = (digit(out[1]) && digit(out[2])) ||
           (letter(out[1]) && !in(out[1], "IJZ") && digit(out[2])) ||
           (digit(out[1]) && in(out[2], "ABCDEFGHJKPSTUW"));
      break;
    case 4:  // AA99, AA9A
      ok = letter(out[1]) && !in(out[1], "IJZ") && digit(out[2]) &&
           (digit(out[3]) || in(out[3], "ABEHMNPRVWXY"));
      break;
  }
  if (!ok) return std::nullopt;
  return canonical;
}

bool IsOutwardCode(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 4 &&
         std::none_of(code.begin(), code.end(),
                      [](char c) { return c == ' ' || absl::ascii_islower(c); }) &&
         NormalisePostcode(absl::StrCat(code, " 1AA")).has_value();
}

std::string PostcodeDistrict(absl::string_view postcode) {
  absl::string_view code = absl::StripAsciiWhitespace(postcode);
  return absl::AsciiStrToUpper(code.substr(0, code.find(' ')));
}

}  // namespace signpost::geo
