#pragma once

#include <string>
#include <vector>

#include "common/status/field_violations.h"
#include "signpost/v1/followup.pb.h"

namespace signpost::followup {

// ONS4: four answers 0-10. SWEMWBS: exactly seven answers 1-5. Violations name the field under
// `prefix` (e.g. "measure.ons4.anxiety", "measure.swemwbs.answers[3]").
std::vector<FieldViolation> ValidateOutcome(const v1::OutcomeMeasure& measure,
                                            const std::string& prefix);

// The SWEMWBS raw total (7-35), for summaries.
int SwemwbsTotal(const v1::Swemwbs& swemwbs);

}  // namespace signpost::followup
