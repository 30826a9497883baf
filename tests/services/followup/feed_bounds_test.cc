#include "services/followup/feed_bounds.h"

#include <gtest/gtest.h>

namespace signpost::followup {
namespace {

FeedToken T(uint64_t ms) { return {ms, 0}; }

redis::Reply Bulk(const std::string& s) {
  redis::Reply r;
  r.type = redis::Reply::Type::kString;
  r.str = s;
  return r;
}
redis::Reply Int(int64_t n) {
  redis::Reply r;
  r.type = redis::Reply::Type::kInteger;
  r.integer = n;
  return r;
}

// As Redis 7.0 answers XINFO STREAM after 300 XADD MAXLEN ~ 10: 100 left, nothing "deleted".
TEST(FeedBoundsTest, ReadsXinfoStreamAsRedisSevenAnswersIt) {
  redis::Reply first_entry;
  first_entry.type = redis::Reply::Type::kArray;
  first_entry.elements = {Bulk("201-0"), redis::Reply()};
  redis::Reply info;
  info.type = redis::Reply::Type::kArray;
  info.elements = {Bulk("length"),
                   Int(100),
                   Bulk("last-generated-id"),
                   Bulk("300-0"),
                   Bulk("max-deleted-entry-id"),
                   Bulk("0-0"),
                   Bulk("entries-added"),
                   Int(300),
                   Bulk("first-entry"),
                   first_entry};
  FeedBounds feed = FeedBounds::FromXinfo(info);
  EXPECT_EQ(feed.last_generated, T(300));
  EXPECT_EQ(feed.max_deleted, T(0));
  ASSERT_TRUE(feed.first.has_value());
  EXPECT_EQ(*feed.first, T(201));
  EXPECT_EQ(feed.removed, 200);
}

TEST(FeedBoundsTest, ATokenTrimmedAwayCannotResumeEvenThoughNothingWasDeleted) {
  FeedBounds feed{.last_generated = T(300), .max_deleted = T(0), .first = T(201), .removed = 200};
  EXPECT_FALSE(HoldsEverythingAfter(feed, T(1)));
  EXPECT_FALSE(HoldsEverythingAfter(feed, T(200)));  // what came between may have been trimmed
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(201)));
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(300)));
  // Before Redis 7.0 nobody says how many were removed: the first entry alone decides.
  feed.removed.reset();
  EXPECT_FALSE(HoldsEverythingAfter(feed, T(1)));
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(250)));
}

TEST(FeedBoundsTest, ADeletedEntryAfterTheTokenCannotBeResumedPast) {
  FeedBounds feed{.last_generated = T(9), .max_deleted = T(6), .first = T(1), .removed = 1};
  EXPECT_FALSE(HoldsEverythingAfter(feed, T(5)));
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(6)));
}

TEST(FeedBoundsTest, AFeedNothingWasRemovedFromResumesFromAnyOfItsTokens) {
  // The empty feed's snapshot token (0-0) before the first update was added.
  FeedBounds feed{.last_generated = T(9), .max_deleted = T(0), .first = T(3), .removed = 0};
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(0)));
}

TEST(FeedBoundsTest, AnEmptiedFeedResumesOnlyFromItsLastToken) {
  FeedBounds feed{.last_generated = T(9), .max_deleted = T(0), .first = std::nullopt, .removed = 9};
  EXPECT_TRUE(HoldsEverythingAfter(feed, T(9)));
  EXPECT_FALSE(HoldsEverythingAfter(feed, T(8)));
}

}  // namespace
}  // namespace signpost::followup
