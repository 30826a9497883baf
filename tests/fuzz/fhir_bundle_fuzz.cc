// libFuzzer target: any bytes as a FHIR R4 referral Bundle (JSON from GP integration engines)
// through the mapper and, when it maps, validation.
#include <cstddef>
#include <cstdint>

#include "services/intake/fhir_referral.h"
#include "services/intake/referral_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace signpost;
  auto referral =
      intake::ReferralFromFhirBundle(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!referral.ok()) return 0;
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  (void)intake::ValidateReferral(intake::NormaliseReferral(*referral, now), now);
  return 0;
}
