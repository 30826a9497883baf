#include "services/intake/identifiers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace signpost::intake {

std::optional<std::string> NormaliseNhsNumber(absl::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    if (!absl::ascii_isdigit(c)) return std::nullopt;
    digits.push_back(c);
  }
  if (digits.size() != 10) return std::nullopt;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
  int check = 11 - (sum % 11);
  if (check == 11) check = 0;
  if (check == 10 || check != digits[9] - '0') return std::nullopt;
  return digits;
}

bool IsValidNhsNumber(absl::string_view text) { return NormaliseNhsNumber(text).has_value(); }

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

std::string PostcodeDistrict(absl::string_view canonical_postcode) {
  auto space = canonical_postcode.find(' ');
  return std::string(space == absl::string_view::npos ? canonical_postcode
                                                      : canonical_postcode.substr(0, space));
}

bool IsValidOdsCode(absl::string_view code) {
  if (code.size() < 3 || code.size() > 10) return false;
  bool letter = false;
  for (char c : code) {
    if (absl::ascii_isupper(c)) {
      letter = true;
    } else if (!absl::ascii_isdigit(c)) {
      return false;
    }
  }
  return letter;
}

bool IsValidSnomedConceptId(absl::string_view id) {
  if (id.size() < 6 || id.size() > 18 || id.front() == '0') return false;
  static constexpr int kMultiply[10][10] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
      {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
      {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
      {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
      {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
  static constexpr int kPermute[8][10] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
      {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
      {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
      {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
  int check = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[id.size() - 1 - i];
    if (!absl::ascii_isdigit(c)) return false;
    check = kMultiply[check][kPermute[i % 8][c - '0']];
  }
  return check == 0;
}

}  // namespace signpost::intake
