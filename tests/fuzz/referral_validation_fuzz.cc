// libFuzzer target: any bytes as a serialized signpost.v1.Referral (what arrives on
// signpost.referral.submitted) through normalisation, validation and the priority assessment.
// Whatever the bytes, none of it may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "services/intake/priority.h"
#include "services/intake/referral_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace signpost;
  v1::Referral referral;
  if (!referral.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Time now = absl::FromUnixSeconds(1795000000);  // fixed: runs are reproducible
  v1::Referral normal = intake::NormaliseReferral(referral, now);
  auto violations = intake::ValidateReferral(normal, now);
  (void)intake::ValidationStatus(violations);
  if (violations.empty()) (void)intake::AssessPriority(normal, intake::PriorityPolicy{});
  return 0;
}
