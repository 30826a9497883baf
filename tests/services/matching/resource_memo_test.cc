#include "services/matching/resource_memo.h"

#include <gtest/gtest.h>

namespace signpost::matching {
namespace {

std::shared_ptr<const v1::Resource> Named(const std::string& name) {
  auto r = std::make_shared<v1::Resource>();
  r->set_name(name);
  return r;
}

TEST(ResourceMemoTest, ARecordIsFoundOnlyUnderItsCurrentStamp) {
  ResourceMemo memo;
  memo.Put("walk-1", "e.1", Named("before"));
  ASSERT_NE(memo.Find("walk-1", "e.1"), nullptr);
  EXPECT_EQ(memo.Find("walk-1", "e.1")->name(), "before");
  EXPECT_EQ(memo.Find("walk-1", "e.2"), nullptr);  // rewritten since: fetch it again
  EXPECT_EQ(memo.Find("walk-1", ""), nullptr);
  EXPECT_EQ(memo.Find("walk-2", "e.1"), nullptr);
  memo.Put("walk-1", "e.2", Named("after"));
  EXPECT_EQ(memo.Find("walk-1", "e.2")->name(), "after");
  EXPECT_EQ(memo.Find("walk-1", "e.1"), nullptr);
}

TEST(ResourceMemoTest, BoundedRecordsInUseStayTheRestAgeOut) {
  ResourceMemo memo(/*keep=*/6);
  for (int i = 0; i < 6; ++i) memo.Put("r" + std::to_string(i), "s", Named("x"));
  memo.Put("r6", "s", Named("x"));           // the first six become the older half
  ASSERT_NE(memo.Find("r0", "s"), nullptr);  // used again: back with the newer half
  for (int i = 7; i < 12; ++i) memo.Put("r" + std::to_string(i), "s", Named("x"));
  // The newer half filled again: r1..r5 (never used since) are gone; r0 was kept.
  memo.Put("r12", "s", Named("x"));
  EXPECT_EQ(memo.Find("r1", "s"), nullptr);
  EXPECT_EQ(memo.Find("r5", "s"), nullptr);
  EXPECT_NE(memo.Find("r0", "s"), nullptr);
  EXPECT_NE(memo.Find("r12", "s"), nullptr);
}

TEST(ResourceMemoTest, AsManyRecordsAsItKeepsAreNeverFetchedTwiceHoweverOftenTheyCycle) {
  ResourceMemo memo(/*keep=*/100);
  for (int i = 0; i < 100; ++i) memo.Put("r" + std::to_string(i), "s", Named("x"));
  memo.Put("other", "s", Named("x"));  // the hundred become the older generation
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_NE(memo.Find("r" + std::to_string(i), "s"), nullptr) << "round " << round << " r" << i;
    }
  }
}

TEST(ResourceMemoTest, ManyAtOnceAnswerAsOneAtATimeInOrder) {
  ResourceMemo memo(/*keep=*/3);
  memo.Put("old", "s", Named("older half"));
  memo.Put("a", "s", Named("a"));
  memo.Put("b", "s", Named("b"));
  memo.Put("c", "s1", Named("c"));  // "old", "a" and "b" become the older half
  auto found = memo.FindMany(
      {{"c", "s1"}, {"old", "s"}, {"c", "s0"}, {"nope", "s"}, {"c", "s1"}, {"a", ""}});
  ASSERT_EQ(found.size(), 6u);
  EXPECT_EQ(found[0]->name(), "c");
  EXPECT_EQ(found[1]->name(), "older half");
  EXPECT_EQ(found[2], nullptr);  // another stamp
  EXPECT_EQ(found[3], nullptr);
  EXPECT_EQ(found[4]->name(), "c");
  EXPECT_EQ(found[5], nullptr);
  // "old" was in use, so it moved back with the newer half and outlives the next turnover.
  memo.Put("d", "s", Named("d"));
  memo.Put("e", "s", Named("e"));
  EXPECT_NE(memo.Find("old", "s"), nullptr);
  EXPECT_EQ(memo.Find("b", "s"), nullptr);
}

}  // namespace
}  // namespace signpost::matching
