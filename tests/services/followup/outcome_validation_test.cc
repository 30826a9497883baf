#include "services/followup/outcome_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

v1::OutcomeMeasure Ons4(int a, int b, int c, int d) {
  v1::OutcomeMeasure m;
  m.mutable_ons4()->set_life_satisfaction(a);
  m.mutable_ons4()->set_worthwhile(b);
  m.mutable_ons4()->set_happiness(c);
  m.mutable_ons4()->set_anxiety(d);
  return m;
}

v1::OutcomeMeasure Swemwbs(std::vector<int> answers) {
  v1::OutcomeMeasure m;
  for (int a : answers) m.mutable_swemwbs()->add_answers(a);
  return m;
}

TEST(OutcomeValidationTest, Ons4AnswersAreZeroToTen) {
  EXPECT_THAT(ValidateOutcome(Ons4(0, 10, 5, 7), "measure"), IsEmpty());
  EXPECT_THAT(ValidateOutcome(Ons4(11, 5, -1, 3), "measure"),
              ElementsAre(Field(&FieldViolation::field, "measure.ons4.life_satisfaction"),
                          Field(&FieldViolation::field, "measure.ons4.happiness")));
  EXPECT_EQ(ValidateOutcome(Ons4(5, 5, 5, 12), "measure")[0].description, "12 is outside 0-10");
}

TEST(OutcomeValidationTest, SwemwbsHasSevenAnswersOneToFive) {
  EXPECT_THAT(ValidateOutcome(Swemwbs({1, 2, 3, 4, 5, 5, 1}), "measure"), IsEmpty());
  EXPECT_EQ(SwemwbsTotal(Swemwbs({1, 2, 3, 4, 5, 5, 1}).swemwbs()), 21);
  EXPECT_THAT(ValidateOutcome(Swemwbs({1, 2, 3}), "measure"),
              ElementsAre(Field(&FieldViolation::field, "measure.swemwbs.answers")));
  EXPECT_THAT(ValidateOutcome(Swemwbs({1, 2, 3, 0, 5, 6, 1}), "measure"),
              ElementsAre(Field(&FieldViolation::field, "measure.swemwbs.answers[3]"),
                          Field(&FieldViolation::field, "measure.swemwbs.answers[5]")));
}

TEST(OutcomeValidationTest, AMeasureIsRequired) {
  EXPECT_THAT(ValidateOutcome(v1::OutcomeMeasure(), "measure"),
              ElementsAre(Field(&FieldViolation::field, "measure")));
}

}  // namespace
}  // namespace signpost::followup
