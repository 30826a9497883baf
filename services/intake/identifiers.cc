#include "services/intake/identifiers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/geo/postcode_row.h"

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
  return geo::NormalisePostcode(text);
}

std::string PostcodeDistrict(absl::string_view canonical_postcode) {
  return geo::PostcodeDistrict(canonical_postcode);
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
