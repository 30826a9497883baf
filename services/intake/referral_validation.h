#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/status/field_violations.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// Bounds that keep one referral a reasonable size.
struct ValidationLimits {
  int max_needs = 10;
  int max_name_length = 100;
  int max_description_length = 500;
  int max_notes_length = 2000;
  int max_address_lines = 6;
  int max_inclusion_groups = 16;
  int max_age_years = 120;
};

// Puts a submitted referral in canonical form: NHS number without separators, postcodes in
// canonical form, the home postcode defaulting to the address postcode, the postcode district,
// the age in whole years at `now`, ODS code upper-cased. Malformed values are left as they are
// for validation to report.
v1::Referral NormaliseReferral(v1::Referral referral, absl::Time now);

// Every violation of a (normalised) referral, each with its field path, as far as ViolationList
// lists them (the first 100, in under 4 KB); `unlisted`, when given, is set to how many more
// there were. Pure.
std::vector<FieldViolation> ValidateReferral(const v1::Referral& referral, absl::Time now,
                                             const ValidationLimits& limits = {},
                                             int64_t* unlisted = nullptr);

// The status for a validation result: OK; FAILED_PRECONDITION when the only problem is consent;
// otherwise INVALID_ARGUMENT with the violations listed and the rest counted in the message.
absl::Status ValidationStatus(const std::vector<FieldViolation>& violations, int64_t unlisted = 0);

// Field path of the consent check, so callers can tell a consent refusal apart.
inline constexpr char kConsentField[] = "consent.referral_consent";

}  // namespace signpost::intake
