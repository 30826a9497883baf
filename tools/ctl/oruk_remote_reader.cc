#include "tools/ctl/oruk_remote_reader.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signpost::ctl {
namespace {

using nlohmann::json;

// RFC 3986 unreserved characters pass; everything else is %XX (ids and timestamps in a query).
std::string PercentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// HSDS nests a full service about eight levels deep (service, service_at_locations, location,
// addresses, ...); a page adds two. Deeper text is refused before it is parsed: the parsed value
// is copied and dumped recursively, and a reply nested a million deep would overflow the stack.
constexpr int kMaxServiceDepth = 32;
constexpr int kMaxPageDepth = kMaxServiceDepth + 2;

// Whether the JSON text nests arrays and objects deeper than `max` (brackets inside strings do
// not count). Read byte by byte, without recursion, before any parse.
bool NestedDeeperThan(const std::string& text, int max) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

bool Retryable(const absl::StatusOr<HttpReply>& reply) {
  if (!reply.ok()) {
    return reply.status().code() == absl::StatusCode::kUnavailable ||
           reply.status().code() == absl::StatusCode::kDeadlineExceeded;
  }
  return reply->status >= 500 || reply->status == 429;
}

// The body of a 200 reply to GET `target`, tried again (with backoff) while the failure is one
// that may pass; the error says what the last try got and after how many.
absl::StatusOr<std::string> GetBody(const OrukFetcher& fetch, const OrukPagingOptions& options,
                                    const std::string& target) {
  absl::Duration backoff = options.first_backoff;
  int attempts = std::max(1, options.attempts);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpReply> reply = fetch(target);
    if (reply.ok() && reply->status == 200) return std::move(reply->body);
    std::string what =
        reply.ok() ? absl::StrCat("HTTP ", reply->status) : std::string(reply.status().message());
    if (!Retryable(reply)) return absl::FailedPreconditionError(what);
    if (attempt >= attempts) {
      return absl::UnavailableError(absl::StrCat(what, " (", attempts, " attempts)"));
    }
    options.sleep(backoff);
    backoff *= 2;
  }
}

// The HSDS Page envelope's fields this reader uses; none is required by the standard.
struct ServicePage {
  json contents;  // an array
  std::optional<int64_t> total_pages;
  bool last_page = false;
};

absl::StatusOr<ServicePage> ParseServicePage(const std::string& body) {
  if (NestedDeeperThan(body, kMaxPageDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", kMaxPageDepth, " levels"));
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("not an HSDS page (an object)");
  ServicePage page;
  auto contents = doc.find("contents");
  if (contents == doc.end() || !contents->is_array()) {
    return absl::InvalidArgumentError("contents: missing or not an array");
  }
  page.contents = std::move(*contents);
  if (auto total = doc.find("total_pages"); total != doc.end() && total->is_number_integer()) {
    page.total_pages = total->get<int64_t>();
  }
  if (auto last = doc.find("last_page"); last != doc.end() && last->is_boolean()) {
    page.last_page = last->get<bool>();
  }
  return page;
}

std::string IdOf(const json& item) {
  auto id = item.is_object() ? item.find("id") : item.end();
  return id != item.end() && id->is_string() ? id->get<std::string>() : std::string();
}

// A list item carrying what the mapping reads (taxonomy terms, locations) as nested arrays, as a
// server answering with full services does. ORUK 3.0 list items carry neither.
bool FullyNested(const json& item) {
  for (const char* key : {"attributes", "service_taxonomys"}) {
    if (auto it = item.find(key); it != item.end() && it->is_array()) return true;
  }
  return false;
}

// The full service for a list item: the item itself when nested, else GET /services/{id}.
absl::StatusOr<json> FullService(const OrukFetcher& fetch, const OrukPagingOptions& options,
                                 const json& item, const std::string& id) {
  if (FullyNested(item)) return item;
  const std::string target = absl::StrCat("/services/", PercentEncode(id));
  auto body = GetBody(fetch, options, target);
  if (!body.ok())
    return absl::Status(body.status().code(),
                        absl::StrCat("GET ", target, ": ", body.status().message()));
  if (NestedDeeperThan(*body, kMaxServiceDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GET ", target, ": JSON nested deeper than ", kMaxServiceDepth, " levels"));
  }
  json service = json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (service.is_discarded() || !service.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("GET ", target, ": not a JSON service object"));
  }
  if (std::string full_id = IdOf(service); full_id != id) {
    return absl::InvalidArgumentError(
        absl::StrCat("id: GET ", target, " answered a service with id '", full_id, "'"));
  }
  return service;
}

// Builds a page's import documents as its services arrive and hands each to the sink once it
// would grow past max_document_bytes, so at most one document (and one service) is held; a
// single service larger than the bound still goes alone (the reply bound already limits it).
class PageDocuments {
 public:
  PageDocuments(int page, size_t max_bytes, const OrukDocumentSink& sink)
      : page_(page), max_bytes_(max_bytes), sink_(sink) {
    Reset();
  }

  absl::Status Add(const std::string& service) {
    if (current_.services > 0 && current_.json.size() + service.size() + 2 > max_bytes_) {
      if (absl::Status s = Send(/*last=*/false); !s.ok()) return s;
    }
    if (current_.services > 0) current_.json += ",";
    current_.json += service;
    ++current_.services;
    return absl::OkStatus();
  }

  absl::Status Finish() { return current_.services == 0 ? absl::OkStatus() : Send(true); }
  int sent() const { return sent_; }

 private:
  absl::Status Send(bool last) {
    ++parts_;
    current_.json += "]";
    current_.name = last && parts_ == 1 ? absl::StrCat("page ", page_)
                                        : absl::StrCat("page ", page_, " part ", parts_);
    absl::Status s = sink_(current_);
    if (s.ok()) sent_ += current_.services;
    Reset();
    return s;
  }
  void Reset() { current_ = OrukDocument{page_, "", "[", 0}; }

  const int page_;
  const size_t max_bytes_;
  const OrukDocumentSink& sink_;
  OrukDocument current_;
  int parts_ = 0;
  int sent_ = 0;
};

}  // namespace

absl::StatusOr<OrukReadSummary> ReadOrukServices(const OrukFetcher& fetch,
                                                 const OrukPagingOptions& options,
                                                 const OrukDocumentSink& sink) {
  OrukReadSummary summary;
  std::set<std::string> seen;
  std::optional<int64_t> total_pages;
  int failed_in_a_row = 0;
  for (int page = 1;; ++page) {
    if (page > options.max_pages) {
      summary.stopped_because =
          absl::StrCat("the page limit (", options.max_pages, ") was reached");
      break;
    }
    if (total_pages && page > *total_pages) {
      summary.stopped_because = absl::StrCat("total_pages (", *total_pages, ") was reached");
      break;
    }
    std::string target = absl::StrCat("/services?page=", page, "&per_page=", options.per_page);
    if (!options.modified_after.empty()) {
      absl::StrAppend(&target, "&modified_after=", PercentEncode(options.modified_after));
    }
    absl::StatusOr<ServicePage> parsed = [&]() -> absl::StatusOr<ServicePage> {
      auto body = GetBody(fetch, options, target);
      if (!body.ok()) return body.status();
      return ParseServicePage(*body);
    }();
    if (!parsed.ok()) {
      summary.failed_pages.push_back(
          {page, absl::StrCat("GET ", target, ": ", parsed.status().message())});
      if (++failed_in_a_row >= options.max_consecutive_failed_pages) {
        summary.stopped_because = absl::StrCat(failed_in_a_row, " pages in a row failed");
        break;
      }
      continue;
    }
    failed_in_a_row = 0;
    ++summary.pages_read;
    if (parsed->total_pages) total_pages = parsed->total_pages;

    PageDocuments documents(page, options.max_document_bytes, sink);
    int new_ids = 0;
    int item_number = 0;
    for (const json& item : parsed->contents) {
      ++item_number;
      ++summary.services_read;
      std::string id = IdOf(item);
      if (id.empty()) {
        summary.refused.push_back(
            {absl::StrCat("page ", page, " item ", item_number), "id: missing or not a string"});
        continue;
      }
      if (!seen.insert(id).second) {
        ++summary.services_repeated;
        continue;
      }
      ++new_ids;
      absl::StatusOr<json> full = FullService(fetch, options, item, id);
      if (!full.ok()) {
        summary.refused.push_back({id, std::string(full.status().message())});
        continue;
      }
      if (absl::Status s = documents.Add(full->dump()); !s.ok()) return s;
    }
    if (absl::Status s = documents.Finish(); !s.ok()) return s;
    summary.services_sent += documents.sent();

    if (parsed->last_page) {
      summary.stopped_because = absl::StrCat("page ", page, " said last_page");
      break;
    }
    if (parsed->contents.empty()) {
      summary.stopped_because = absl::StrCat("page ", page, " was empty");
      break;
    }
    if (new_ids == 0 && !parsed->contents.empty() &&
        std::all_of(parsed->contents.begin(), parsed->contents.end(),
                    [&](const json& item) { return !IdOf(item).empty(); })) {
      summary.stopped_because =
          absl::StrCat("page ", page, " only repeated services already read (is page ignored?)");
      break;
    }
  }
  return summary;
}

}  // namespace signpost::ctl
