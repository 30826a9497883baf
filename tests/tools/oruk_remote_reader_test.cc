// The paging rules of `signpostctl directory import --url`, against a fake ORUK 3.0 server.
#include "tools/ctl/oruk_remote_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace signpost::ctl {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A directory of `count` services, `per_page` to a page, as an ORUK 3.0 API lists them: list
// items without attributes or locations, the full service at /services/{id}. Scripted faults:
// replies by target (consumed in order, then the real answer), and an overridden total_pages.
class FakeOrukServer {
 public:
  FakeOrukServer(int count, int per_page) : per_page_(per_page) {
    for (int i = 1; i <= count; ++i) ids_.push_back(absl::StrCat("svc-", i));
  }

  absl::StatusOr<HttpReply> Fetch(const std::string& target) {
    requests.push_back(target);
    if (auto it = scripted_.find(target); it != scripted_.end() && !it->second.empty()) {
      auto reply = it->second.front();
      it->second.erase(it->second.begin());
      return reply;
    }
    if (auto it = always_.find(target); it != always_.end()) return it->second;
    if (absl::StartsWith(target, "/services/")) {
      std::string id = target.substr(std::string("/services/").size());
      json service = {
          {"id", id},
          {"name", id},
          {"status", "active"},
          {"attributes", json::array({{{"taxonomy_term", {{"name", "Befriending"}}}}})}};
      return HttpReply{200, service.dump()};
    }
    int page = 1;
    for (absl::string_view part : absl::StrSplit(target.substr(target.find('?') + 1), '&')) {
      if (absl::ConsumePrefix(&part, "page=")) (void)absl::SimpleAtoi(part, &page);
    }
    if (ignore_page) page = 1;
    int total_pages = (static_cast<int>(ids_.size()) + per_page_ - 1) / per_page_;
    json contents = json::array();
    for (int i = (page - 1) * per_page_; i < std::min<int>(page * per_page_, ids_.size()); ++i) {
      contents.push_back({{"id", ids_[i]}, {"name", ids_[i]}, {"status", "active"}});
    }
    json envelope = {
        {"total_items", ids_.size()}, {"total_pages", total_pages_claimed.value_or(total_pages)},
        {"page_number", page},        {"size", contents.size()},
        {"first_page", page == 1},    {"last_page", say_last_page && page >= total_pages},
        {"empty", contents.empty()},  {"contents", contents}};
    return HttpReply{200, envelope.dump()};
  }

  void Script(const std::string& target, std::vector<absl::StatusOr<HttpReply>> replies) {
    scripted_[target] = std::move(replies);
  }
  void Always(const std::string& target, absl::StatusOr<HttpReply> reply) {
    always_.emplace(target, std::move(reply));
  }

  std::optional<int> total_pages_claimed;
  bool say_last_page = true;
  bool ignore_page = false;
  std::vector<std::string> requests;

 private:
  int per_page_;
  std::vector<std::string> ids_;
  std::map<std::string, std::vector<absl::StatusOr<HttpReply>>> scripted_;
  std::map<std::string, absl::StatusOr<HttpReply>> always_;
};

struct ReadRun {
  absl::StatusOr<OrukReadSummary> summary;
  std::vector<std::string> sent_ids;  // in the order the sink got them
  std::vector<std::string> documents;
  std::vector<absl::Duration> sleeps;
};

ReadRun Read(FakeOrukServer& server, OrukPagingOptions options = {}) {
  ReadRun run;
  options.sleep = [&run](absl::Duration d) { run.sleeps.push_back(d); };
  options.per_page = 10;  // the fake server's page size
  run.summary = ReadOrukServices(
      [&server](const std::string& target) { return server.Fetch(target); }, options,
      [&run](const OrukDocument& document) {
        run.documents.push_back(document.name);
        json services = json::parse(document.json);
        EXPECT_EQ(static_cast<int>(services.size()), document.services);
        for (const auto& s : services) run.sent_ids.push_back(s["id"].get<std::string>());
        return absl::OkStatus();
      });
  return run;
}

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(absl::StrCat("svc-", i));
  return out;
}

TEST(OrukRemoteReaderTest, EveryServiceOnceWithItsFullRecordUntilLastPage) {
  FakeOrukServer server(25, 10);
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok()) << run.summary.status();
  EXPECT_EQ(run.sent_ids, Ids(1, 25));
  EXPECT_THAT(run.documents, ElementsAre("page 1", "page 2", "page 3"));
  EXPECT_EQ(run.summary->pages_read, 3);
  EXPECT_EQ(run.summary->services_read, 25);
  EXPECT_TRUE(run.summary->refused.empty());
  EXPECT_TRUE(run.summary->failed_pages.empty());
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("page 3 said last_page"));
  // List items are not nested: each service was read from /services/{id}; no page 4 asked for.
  EXPECT_EQ(std::count_if(server.requests.begin(), server.requests.end(),
                          [](const std::string& t) { return absl::StartsWith(t, "/services/"); }),
            25);
  EXPECT_EQ(server.requests.front(), "/services?page=1&per_page=10");
  for (const auto& t : server.requests) EXPECT_FALSE(absl::StrContains(t, "page=4")) << t;
}

TEST(OrukRemoteReaderTest, ModifiedAfterIsPassedOnEncoded) {
  FakeOrukServer server(3, 10);
  OrukPagingOptions options;
  options.modified_after = "2026-12-01T00:00:00+00:00";
  ReadRun run = Read(server, options);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(server.requests.front(),
            "/services?page=1&per_page=10&modified_after=2026-12-01T00%3A00%3A00%2B00%3A00");
}

TEST(OrukRemoteReaderTest, ABadRecordIsRefusedNamingItsIdAndTheRestAreSent) {
  FakeOrukServer server(25, 10);
  server.Always("/services/svc-12", HttpReply{200, "<html>oops</html>"});
  server.Always("/services/svc-13", HttpReply{404, "{}"});
  server.Always("/services/svc-14", HttpReply{200, R"({"id": "svc-99", "name": "x"})"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  std::vector<std::string> expected = Ids(1, 11);
  for (const auto& id : Ids(15, 25)) expected.push_back(id);
  EXPECT_EQ(run.sent_ids, expected);
  ASSERT_EQ(run.summary->refused.size(), 3u);
  EXPECT_EQ(run.summary->refused[0].id, "svc-12");
  EXPECT_THAT(run.summary->refused[0].reason, HasSubstr("not a JSON service object"));
  EXPECT_EQ(run.summary->refused[1].id, "svc-13");
  EXPECT_THAT(run.summary->refused[1].reason, HasSubstr("GET /services/svc-13: HTTP 404"));
  EXPECT_EQ(run.summary->refused[2].id, "svc-14");
  EXPECT_THAT(run.summary->refused[2].reason, HasSubstr("id: "));
  EXPECT_THAT(run.summary->refused[2].reason, HasSubstr("svc-99"));
}

TEST(OrukRemoteReaderTest, AListItemWithoutAnIdIsRefusedByItsPlace) {
  FakeOrukServer server(0, 10);
  server.Always("/services?page=1&per_page=10",
                HttpReply{200, R"({"total_pages": 1, "last_page": true, "contents": [
                  {"name": "no id"},
                  {"id": "ok-1", "name": "nested", "attributes": []}]})"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_THAT(run.sent_ids, ElementsAre("ok-1"));
  ASSERT_EQ(run.summary->refused.size(), 1u);
  EXPECT_EQ(run.summary->refused[0].id, "page 1 item 1");
  EXPECT_THAT(run.summary->refused[0].reason, HasSubstr("id"));
  // A nested list item (attributes present) is taken as it is: no GET /services/ok-1.
  EXPECT_THAT(server.requests, ElementsAre("/services?page=1&per_page=10"));
}

TEST(OrukRemoteReaderTest, APageFailingTwiceThenAnsweringIsRetriedWithBackoff) {
  FakeOrukServer server(25, 10);
  server.Script("/services?page=2&per_page=10",
                {HttpReply{500, "busy"}, absl::UnavailableError("connection reset")});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 25));
  EXPECT_TRUE(run.summary->failed_pages.empty());
  EXPECT_THAT(run.sleeps, ElementsAre(absl::Milliseconds(500), absl::Seconds(1)));
}

TEST(OrukRemoteReaderTest, APageThatKeepsFailingIsReportedAndTheOthersAreRead) {
  FakeOrukServer server(25, 10);
  server.Always("/services?page=2&per_page=10", HttpReply{500, "down"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  std::vector<std::string> expected = Ids(1, 10);
  for (const auto& id : Ids(21, 25)) expected.push_back(id);
  EXPECT_EQ(run.sent_ids, expected);
  ASSERT_EQ(run.summary->failed_pages.size(), 1u);
  EXPECT_EQ(run.summary->failed_pages[0].page, 2);
  EXPECT_THAT(run.summary->failed_pages[0].reason, HasSubstr("HTTP 500 (4 attempts)"));
  EXPECT_EQ(run.sleeps.size(), 3u);  // 4 attempts, bounded
  EXPECT_EQ(run.summary->pages_read, 2);
}

TEST(OrukRemoteReaderTest, AClientErrorIsNotRetried) {
  FakeOrukServer server(25, 10);
  server.Always("/services?page=3&per_page=10", HttpReply{400, "bad per_page"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  ASSERT_EQ(run.summary->failed_pages.size(), 1u);
  EXPECT_EQ(run.summary->failed_pages[0].page, 3);
  EXPECT_THAT(run.summary->failed_pages[0].reason, HasSubstr("HTTP 400"));
  EXPECT_TRUE(run.sleeps.empty());
}

TEST(OrukRemoteReaderTest, AServerThatIsDownIsNotAskedForEverPage) {
  FakeOrukServer server(25, 10);
  for (int page = 1; page <= 10; ++page) {
    server.Always(absl::StrCat("/services?page=", page, "&per_page=10"),
                  absl::UnavailableError("connection refused"));
  }
  OrukPagingOptions options;
  options.attempts = 2;
  ReadRun run = Read(server, options);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_TRUE(run.sent_ids.empty());
  EXPECT_EQ(run.summary->pages_read, 0);
  EXPECT_EQ(run.summary->failed_pages.size(), 3u);
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("3 pages in a row failed"));
  EXPECT_EQ(server.requests.size(), 6u);
}

TEST(OrukRemoteReaderTest, ALyingTotalPagesStopsAtTheFirstEmptyPage) {
  FakeOrukServer server(25, 10);
  server.total_pages_claimed = 1000000;
  server.say_last_page = false;
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 25));
  EXPECT_EQ(run.summary->pages_read, 4);
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("page 4 was empty"));
}

TEST(OrukRemoteReaderTest, AServerIgnoringPageIsStoppedWhenAPageOnlyRepeats) {
  FakeOrukServer server(25, 10);
  server.ignore_page = true;
  server.say_last_page = false;
  server.total_pages_claimed = 1000000;
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 10));
  EXPECT_EQ(run.summary->services_repeated, 10);
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("page 2 only repeated"));
}

TEST(OrukRemoteReaderTest, TotalPagesStopsWhenLastPageIsNotSaid) {
  FakeOrukServer server(25, 10);
  server.say_last_page = false;
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 25));
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("total_pages (3)"));
}

TEST(OrukRemoteReaderTest, ThePageLimitBoundsAServerThatNeverEnds) {
  FakeOrukServer server(25, 10);
  server.say_last_page = false;
  server.total_pages_claimed = 1000000;
  OrukPagingOptions options;
  options.max_pages = 2;
  ReadRun run = Read(server, options);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 20));
  EXPECT_THAT(run.summary->stopped_because, HasSubstr("page limit (2)"));
}

TEST(OrukRemoteReaderTest, AnEmptyDirectorySendsNothing) {
  FakeOrukServer server(0, 10);
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_TRUE(run.sent_ids.empty());
  EXPECT_TRUE(run.documents.empty());
  EXPECT_EQ(run.summary->pages_read, 1);
  EXPECT_EQ(run.summary->services_read, 0);
  EXPECT_TRUE(run.summary->failed_pages.empty());
}

TEST(OrukRemoteReaderTest, APageThatIsNotAnHsdsPageFails) {
  FakeOrukServer server(25, 10);
  server.Always("/services?page=1&per_page=10", HttpReply{200, R"({"items": []})"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok());
  ASSERT_FALSE(run.summary->failed_pages.empty());
  EXPECT_THAT(run.summary->failed_pages[0].reason, HasSubstr("contents"));
  EXPECT_EQ(run.sent_ids, Ids(11, 25));
}

// A page nested a million deep (a nested list item is copied and dumped recursively) fails by
// name rather than overflowing the stack; brackets and escaped quotes inside strings are text.
TEST(OrukRemoteReaderTest, APageNestedTooDeepFailsAndBracketsInStringsAreText) {
  FakeOrukServer server(25, 10);
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  server.Always(
      "/services?page=1&per_page=10",
      HttpReply{200, R"({"contents": [{"id": "d-1", "attributes": [], "x": )" + deep + "}]}"});
  server.Always("/services/svc-12",
                HttpReply{200, R"({"id": "svc-12", "name": "[[[[ \"{{{{\" ]]", "status": "active",
                  "attributes": [{"taxonomy_term": {"name": "Befriending"}}]})"});
  ReadRun run = Read(server);
  ASSERT_TRUE(run.summary.ok()) << run.summary.status();
  ASSERT_EQ(run.summary->failed_pages.size(), 1u);
  EXPECT_EQ(run.summary->failed_pages[0].page, 1);
  EXPECT_THAT(run.summary->failed_pages[0].reason, HasSubstr("JSON nested deeper than"));
  EXPECT_EQ(run.sent_ids, Ids(11, 25));
  EXPECT_TRUE(run.summary->refused.empty());
}

TEST(OrukRemoteReaderTest, ALargePageIsSentInBoundedParts) {
  FakeOrukServer server(10, 10);
  OrukPagingOptions options;
  options.max_document_bytes = 300;
  ReadRun run = Read(server, options);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.sent_ids, Ids(1, 10));
  EXPECT_GT(run.documents.size(), 1u);
  EXPECT_EQ(run.documents.front(), "page 1 part 1");
}

TEST(OrukRemoteReaderTest, ASinkFailureEndsTheReading) {
  FakeOrukServer server(25, 10);
  OrukPagingOptions options;
  options.per_page = 10;
  options.sleep = [](absl::Duration) {};
  int calls = 0;
  auto summary = ReadOrukServices(
      [&server](const std::string& target) { return server.Fetch(target); }, options,
      [&calls](const OrukDocument&) {
        ++calls;
        return absl::UnavailableError("matching is down");
      });
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace signpost::ctl
