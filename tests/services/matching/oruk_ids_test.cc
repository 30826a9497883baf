#include "services/matching/oruk_ids.h"

#include <gtest/gtest.h>

namespace signpost::matching {
namespace {

// Expected values from Python's uuid.uuid5(UUID(kOrukNamespace), name): an implementation
// outside ours.
TEST(OrukIdsTest, NameBasedUuidIsRfcVersion5InSignpostsNamespace) {
  EXPECT_EQ(NameBasedUuid("service:leeds-hp-walk-001"), "cd6446b9-4c73-5cfb-a4e5-f0c891b1cf50");
  EXPECT_EQ(NameBasedUuid(""), "ec482eb4-774d-5230-9c91-2686619a8a7e");
}

TEST(OrukIdsTest, SignpostIdBecomesTheSameUuidEveryTime) {
  EXPECT_EQ(OrukId("organization", "org-1"), "02a122f3-2e00-5fa3-9e74-d9993ded866a");
  EXPECT_EQ(OrukId("organization", "org-1"), OrukId("organization", "org-1"));
  EXPECT_NE(OrukId("organization", "org-1"), OrukId("service", "org-1"));
}

TEST(OrukIdsTest, AnIdThatIsAUuidAlreadyIsKept) {
  EXPECT_EQ(OrukId("service", "ac148810-d857-441c-9679-408f346de14b"),
            "ac148810-d857-441c-9679-408f346de14b");
  // Upper case is not this API's form: it gets a name-based id like any other text.
  EXPECT_NE(OrukId("service", "AC148810-D857-441C-9679-408F346DE14B"),
            "AC148810-D857-441C-9679-408F346DE14B");
}

TEST(OrukIdsTest, IsLowerCaseUuid) {
  EXPECT_TRUE(IsLowerCaseUuid("ac148810-d857-441c-9679-408f346de14b"));
  EXPECT_FALSE(IsLowerCaseUuid("ac148810d857441c9679408f346de14b"));
  EXPECT_FALSE(IsLowerCaseUuid("ac148810-d857-441c-9679-408f346de14"));
  EXPECT_FALSE(IsLowerCaseUuid("ac148810-d857-441c-9679-408f346de14g"));
  EXPECT_FALSE(IsLowerCaseUuid("ac148810-d857-441c-9679x408f346de14b"));
  EXPECT_FALSE(IsLowerCaseUuid(""));
}

}  // namespace
}  // namespace signpost::matching
