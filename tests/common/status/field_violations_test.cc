#include "common/status/field_violations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost {
namespace {

using ::testing::ElementsAre;

TEST(FieldViolationsTest, CarriesEveryViolationAndNamesTheFirstInTheMessage) {
  absl::Status status =
      InvalidArgumentWithViolations({{"identity.nhs_number", "check digit does not match"},
                                     {"needs", "at least one need is required"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "identity.nhs_number: check digit does not match (and 1 more)");
  EXPECT_THAT(ViolationsOf(status),
              ElementsAre(FieldViolation{"identity.nhs_number", "check digit does not match"},
                          FieldViolation{"needs", "at least one need is required"}));
}

TEST(FieldViolationsTest, NoViolationsIsOk) { EXPECT_TRUE(InvalidArgumentWithViolations({}).ok()); }

TEST(FieldViolationsTest, PreconditionKeepsItsCode) {
  absl::Status status =
      FailedPreconditionWithViolations({{"consent.referral_consent", "consent not given"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ViolationsOf(status).size(), 1u);
}

TEST(FieldViolationsTest, PlainStatusHasNone) {
  EXPECT_TRUE(ViolationsOf(absl::InvalidArgumentError("x")).empty());
}

}  // namespace
}  // namespace signpost
