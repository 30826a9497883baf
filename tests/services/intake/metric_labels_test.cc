#include "services/intake/metric_labels.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace signpost::intake {
namespace {

TEST(MetricLabelsTest, FieldPathsLoseTheirIndicesOnly) {
  EXPECT_EQ(FieldLabel("profile.inclusion_groups[12]"), "profile.inclusion_groups[]");
  EXPECT_EQ(FieldLabel("needs[3].snomed_code"), "needs[].snomed_code");
  EXPECT_EQ(FieldLabel("Bundle.entry[Patient]"), "Bundle.entry[Patient]");
  EXPECT_EQ(FieldLabel("ServiceRequest.reasonCode[0]"), "ServiceRequest.reasonCode[]");
  EXPECT_EQ(FieldLabel("identity.nhs_number"), "identity.nhs_number");
}

TEST(MetricLabelsTest, SourceSystemsAreNamedOnlyOnceAcceptedAndOnlySoMany) {
  SourceSystemLabels labels(2);
  EXPECT_EQ(labels.Of("emis"), "other");  // nothing accepted from it yet
  EXPECT_EQ(labels.Accepted("emis"), "emis");
  EXPECT_EQ(labels.Of("emis"), "emis");
  EXPECT_EQ(labels.Accepted("tpp"), "tpp");
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(labels.Accepted(absl::StrCat("gp-", i)), "other");
  EXPECT_EQ(labels.Of(""), "unknown");
  EXPECT_EQ(labels.Of(std::string(5000, 's')), "other");
}

}  // namespace
}  // namespace signpost::intake
