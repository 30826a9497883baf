#include "services/followup/outcome_validation.h"

#include "absl/strings/str_cat.h"

namespace signpost::followup {

std::vector<FieldViolation> ValidateOutcome(const v1::OutcomeMeasure& measure,
                                            const std::string& prefix) {
  std::vector<FieldViolation> violations;
  auto in_range = [&](const std::string& field, int value, int low, int high) {
    if (value < low || value > high) {
      violations.push_back(
          {absl::StrCat(prefix, ".", field), absl::StrCat(value, " is outside ", low, "-", high)});
    }
  };
  switch (measure.measure_case()) {
    case v1::OutcomeMeasure::kOns4: {
      const v1::Ons4& ons4 = measure.ons4();
      in_range("ons4.life_satisfaction", ons4.life_satisfaction(), 0, 10);
      in_range("ons4.worthwhile", ons4.worthwhile(), 0, 10);
      in_range("ons4.happiness", ons4.happiness(), 0, 10);
      in_range("ons4.anxiety", ons4.anxiety(), 0, 10);
      break;
    }
    case v1::OutcomeMeasure::kSwemwbs: {
      const auto& answers = measure.swemwbs().answers();
      if (answers.size() != 7) {
        violations.push_back({absl::StrCat(prefix, ".swemwbs.answers"),
                              absl::StrCat("SWEMWBS has 7 answers, not ", answers.size())});
      }
      for (int i = 0; i < answers.size(); ++i) {
        in_range(absl::StrCat("swemwbs.answers[", i, "]"), answers[i], 1, 5);
      }
      break;
    }
    case v1::OutcomeMeasure::MEASURE_NOT_SET:
      violations.push_back({prefix, "required: an ONS4 or a SWEMWBS measure"});
      break;
  }
  return violations;
}

int SwemwbsTotal(const v1::Swemwbs& swemwbs) {
  int total = 0;
  for (int answer : swemwbs.answers()) total += answer;
  return total;
}

}  // namespace signpost::followup
