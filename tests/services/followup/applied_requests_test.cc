#include "services/followup/applied_requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/status/field_violations.h"

namespace signpost::followup {
namespace {

using ::testing::ElementsAre;

TEST(AppliedRequestsTest, AnIdIsOptionalAndAtMost64PrintableCharacters) {
  EXPECT_TRUE(CheckRequestId("").ok());
  EXPECT_TRUE(CheckRequestId("6f1f7c1e-8f55-4d8c-9d2b-0c5d2b1f3a77").ok());
  EXPECT_TRUE(CheckRequestId(std::string(64, 'x')).ok());
  for (const std::string& bad :
       {std::string(65, 'x'), std::string("line\nbreak"), std::string("caf\xc3\xa9"),
        std::string("nul\0id", 6), std::string("del\x7f")}) {
    absl::Status s = CheckRequestId(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    ASSERT_EQ(ViolationsOf(s).size(), 1u);
    EXPECT_EQ(ViolationsOf(s)[0].field, "request_id");
  }
}

TEST(AppliedRequestsTest, AnActionRememberedIsAppliedAndAnEmptyIdNeverIs) {
  v1::Case kase;
  EXPECT_FALSE(AlreadyApplied(kase, "a"));
  RememberApplied(kase, "a");
  RememberApplied(kase, "");
  EXPECT_TRUE(AlreadyApplied(kase, "a"));
  EXPECT_FALSE(AlreadyApplied(kase, "b"));
  EXPECT_FALSE(AlreadyApplied(kase, ""));
  EXPECT_THAT(kase.applied_request_ids(), ElementsAre("a"));
}

TEST(AppliedRequestsTest, OnlyTheLastActionsAreRememberedOldestForgottenFirst) {
  v1::Case kase;
  for (int i = 0; i < kRememberedRequests + 3; ++i) RememberApplied(kase, absl::StrCat("id-", i));
  EXPECT_EQ(kase.applied_request_ids_size(), kRememberedRequests);
  EXPECT_EQ(kase.applied_request_ids(0), "id-3");
  EXPECT_FALSE(AlreadyApplied(kase, "id-2"));
  EXPECT_TRUE(AlreadyApplied(kase, "id-3"));
  EXPECT_TRUE(AlreadyApplied(kase, absl::StrCat("id-", kRememberedRequests + 2)));
}

}  // namespace
}  // namespace signpost::followup
