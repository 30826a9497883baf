#include "services/intake/violation_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace signpost::intake {
namespace {

using ::testing::HasSubstr;

TEST(ViolationListTest, ListsTheFirstOnesAndCountsEveryOne) {
  ViolationList list;
  for (int i = 0; i < 20000; ++i) {
    list.Add(absl::StrCat("profile.inclusion_groups[", i, "]"), "unknown value 99");
  }
  EXPECT_EQ(list.total(), 20000);
  EXPECT_LE(list.listed().size(), 100u);
  EXPECT_EQ(list.listed()[0].field, "profile.inclusion_groups[0]");
  EXPECT_EQ(list.unlisted(), 20000 - static_cast<int64_t>(list.listed().size()));

  absl::Status status =
      StatusWithViolations(absl::StatusCode::kInvalidArgument, list.listed(), list.unlisted());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("profile.inclusion_groups[0]"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("and 19999 more"));
  EXPECT_EQ(ViolationsOf(status).size(), list.listed().size());
}

TEST(ViolationListTest, LongTextIsCutAndTheListStaysWithinItsBytes) {
  ViolationList list;
  std::string polish = "zażółć gęślą jaźń ";
  std::string long_text;
  while (long_text.size() < 10000) long_text += polish;
  for (int i = 0; i < 100; ++i) list.Add("ServiceRequest.priority", long_text);
  size_t bytes = 0;
  for (const auto& v : list.listed()) {
    EXPECT_LE(v.description.size(), 200u);
    EXPECT_THAT(v.description, ::testing::EndsWith("..."));
    bytes += v.field.size() + v.description.size();
  }
  EXPECT_LE(bytes, 4096u);
  EXPECT_EQ(list.total(), 100);
  EXPECT_GT(list.unlisted(), 0);
  // Never cut inside a character: what is kept is the start of the text, character by character.
  std::string kept = list.listed()[0].description;
  kept.resize(kept.size() - 3);
  EXPECT_EQ(long_text.compare(0, kept.size(), kept), 0);
  EXPECT_NE(static_cast<unsigned char>(long_text[kept.size()]) & 0xC0, 0x80);
}

TEST(ViolationListTest, AFewViolationsAreAllListedAndCounted) {
  ViolationList list;
  list.Add("needs", "at least one need is required");
  list.Add("identity.postcode", "not a well-formed UK postcode");
  EXPECT_EQ(list.unlisted(), 0);
  absl::Status status =
      StatusWithViolations(absl::StatusCode::kInvalidArgument, list.listed(), list.unlisted());
  EXPECT_EQ(status.message(), "needs: at least one need is required (and 1 more)");
  EXPECT_TRUE(StatusWithViolations(absl::StatusCode::kInvalidArgument, {}, 0).ok());
}

}  // namespace
}  // namespace signpost::intake
