#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace signpost::intake {

// NHS number: 10 digits whose tenth is the modulus-11 check digit of the first nine (weights
// 10..2; a remainder giving 10 makes the number invalid). Spaces and hyphens are ignored.
bool IsValidNhsNumber(absl::string_view text);
// The 10 digits without separators, or nullopt when not valid.
std::optional<std::string> NormaliseNhsNumber(absl::string_view text);

// A UK postcode in its canonical form ("LS6 2AB"), from any spacing and case; nullopt when it is
// not well formed.
std::optional<std::string> NormalisePostcode(absl::string_view text);
// The outward code (district) of a canonical postcode: "LS6 2AB" -> "LS6".
std::string PostcodeDistrict(absl::string_view canonical_postcode);

// An ODS organisation code: 3-10 upper-case letters and digits with at least one letter
// (GP practices are a letter and five digits, e.g. "A81001").
bool IsValidOdsCode(absl::string_view code);

// A SNOMED CT concept id: 6-18 digits, the last a Verhoeff check digit.
bool IsValidSnomedConceptId(absl::string_view id);

}  // namespace signpost::intake
