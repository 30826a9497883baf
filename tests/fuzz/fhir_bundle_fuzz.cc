// libFuzzer target: any bytes as a FHIR R4 referral Bundle (JSON from GP integration engines)
// through the mapper and, when it maps, validation; and as a message (fhir_process_message.h).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/status/field_violations.h"
#include "services/intake/fhir_process_message.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/referral_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace signpost;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  // As POST /fhir/$process-message reads it: the message, where each violation sits, the answer.
  nlohmann::json bundle = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!bundle.is_discarded() && intake::CheckMessageBundle(bundle).ok()) {
    auto message = intake::ReadRequestMessage(bundle);
    if (message.ok()) {
      (void)intake::ResponseMessage(*message, {.referral_id = "ref-1"},
                                    "11111111-2222-4333-8444-555555555555",
                                    absl::FromUnixSeconds(1795000000))
          .dump();
    }
  }
  auto referral = intake::ReferralFromFhirBundle(text);
  if (!bundle.is_discarded()) {
    for (const auto& violation : ViolationsOf(referral.status())) {
      (void)intake::ExpressionInMessage(bundle, violation.field);
    }
  }
  if (!referral.ok()) return 0;
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  (void)intake::ValidateReferral(intake::NormaliseReferral(*referral, now), now);
  return 0;
}
