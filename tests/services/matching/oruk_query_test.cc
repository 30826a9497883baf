#include "services/matching/oruk_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "services/matching/oruk_ids.h"

namespace signpost::matching {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(OrukQueryTest, DefaultsWithoutParameters) {
  auto q = ParseServicesQuery({});
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->page, 1);
  EXPECT_EQ(q->per_page, 50);
  EXPECT_FALSE(q->Filters());
}

TEST(OrukQueryTest, ReadsEveryParameter) {
  auto q = ParseServicesQuery({{"page", "3"},
                               {"per_page", "200"},
                               {"modified_after", "2026-01-31T09:00:00+01:00"},
                               {"taxonomy_term_id", "NEED_CATEGORY_LONELINESS"},
                               {"search", " walk "},
                               {"minimum_age", "12"}});  // not supported: ignored
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->page, 3);
  EXPECT_EQ(q->per_page, 200);
  ASSERT_TRUE(q->modified_after.has_value());
  EXPECT_EQ(absl::ToUnixSeconds(*q->modified_after), 1769846400);  // 08:00Z
  EXPECT_EQ(q->taxonomy_term_id, "NEED_CATEGORY_LONELINESS");
  EXPECT_EQ(q->search, "walk");
  EXPECT_TRUE(q->Filters());
}

TEST(OrukQueryTest, BadParametersAreNamed) {
  const std::vector<std::pair<std::string, std::string>> bad = {{"page", "0"},
                                                                {"page", "two"},
                                                                {"page", "-1"},
                                                                {"per_page", "0"},
                                                                {"per_page", "201"},
                                                                {"per_page", "1e3"},
                                                                {"modified_after", "yesterday"},
                                                                {"modified_after", "2026-01-31"},
                                                                {"search", std::string(201, 'x')}};
  for (const auto& [name, value] : bad) {
    auto q = ParseServicesQuery({{name, value}});
    ASSERT_FALSE(q.ok()) << name << "=" << value;
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(q.status().message()), StartsWith(name + ": "));
    EXPECT_EQ(ParameterOf(q.status()), name);
  }
  EXPECT_THAT(std::string(ParseServicesQuery({{"per_page", "500"}}).status().message()),
              HasSubstr("1 to 200"));
}

v1::Resource Walk() {
  v1::Resource r;
  r.set_id("walk-1");
  r.set_name("Headingley Health Walk");
  r.set_description("A gentle walk for all abilities");
  r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  r.add_taxonomy_terms("Walking groups");
  r.mutable_updated_at()->set_seconds(1769850000);  // 2026-01-31T09:00:00Z
  return r;
}

TEST(OrukQueryTest, ModifiedAfterIsOnOrAfter) {
  ServicesQuery q;
  q.modified_after = absl::FromUnixSeconds(1769850000);
  EXPECT_TRUE(Selects(q, Walk()));
  q.modified_after = absl::FromUnixSeconds(1769850001);
  EXPECT_FALSE(Selects(q, Walk()));
  v1::Resource never_updated = Walk();
  never_updated.clear_updated_at();
  q.modified_after = absl::FromUnixSeconds(0);
  EXPECT_FALSE(Selects(q, never_updated));
}

TEST(OrukQueryTest, TaxonomyTermByIdOrByTerm) {
  ServicesQuery q;
  q.taxonomy_term_id =
      NameBasedUuid("taxonomy_term:Signpost need categories:NEED_CATEGORY_PHYSICAL_ACTIVITY");
  EXPECT_TRUE(Selects(q, Walk()));
  q.taxonomy_term_id = "need_category_physical_activity";
  EXPECT_TRUE(Selects(q, Walk()));
  q.taxonomy_term_id = "Walking groups";
  EXPECT_TRUE(Selects(q, Walk()));
  q.taxonomy_term_id = "NEED_CATEGORY_HOUSING";
  EXPECT_FALSE(Selects(q, Walk()));
}

TEST(OrukQueryTest, SearchNeedsEveryWordInNameOrDescription) {
  ServicesQuery q;
  q.search = "HEALTH gentle";
  EXPECT_TRUE(Selects(q, Walk()));
  q.search = "health swim";
  EXPECT_FALSE(Selects(q, Walk()));
}

}  // namespace
}  // namespace signpost::matching
