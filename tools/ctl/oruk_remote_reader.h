// Reads a remote Open Referral UK 3.0 (HSDS 3.0) API's services page by page, for
// `signpostctl directory import --url`. No I/O of its own: requests go through the fetcher the
// caller gives and each page's services go to the caller's sink, so the paging rules are tested
// against a fake server. The services are mapped to resources where the file import maps them
// (signpost-matching, services/matching/open_referral.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace signpost::ctl {

struct HttpReply {
  int status = 0;
  std::string body;
};

// GETs `target` (a path and query relative to the API's base URL, e.g. "/services?page=2").
// An error status when no reply came (connection refused or reset, timeout: UNAVAILABLE or
// DEADLINE_EXCEEDED, retried) or the reply was refused unread (larger than the bound:
// RESOURCE_EXHAUSTED, not retried). Any HTTP status is a reply.
using OrukFetcher = std::function<absl::StatusOr<HttpReply>(const std::string& target)>;

struct OrukPagingOptions {
  int per_page = 50;
  std::string modified_after;  // passed on as modified_after=; empty: every service
  // A server that never says last_page (or loops) is stopped here.
  int max_pages = 1000;
  // Per request: a 5xx or 429 reply or no reply is tried again, up to this many times in all,
  // waiting first_backoff, then twice that, and so on.
  int attempts = 4;
  absl::Duration first_backoff = absl::Milliseconds(500);
  // A server down for this many pages in a row is not asked for more (the total is unknown).
  int max_consecutive_failed_pages = 3;
  // One import document's bound: a page larger than this is sent in parts.
  size_t max_document_bytes = 2 << 20;
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
};

// One document to import: a JSON array of fully nested services from one page (or part of one).
struct OrukDocument {
  int page = 0;
  std::string name;  // "page 3" or "page 3 part 2", for messages
  std::string json;
  int services = 0;
};

// Sends a document to the directory. An error ends the reading (the directory is unreachable):
// what was sent before it stays imported.
using OrukDocumentSink = std::function<absl::Status(const OrukDocument&)>;

struct RefusedService {
  std::string id;  // or "page 2 item 5" when the item has no id
  std::string reason;
};

struct FailedPage {
  int page = 0;
  std::string reason;
};

struct OrukReadSummary {
  int pages_read = 0;
  int services_read = 0;                // items listed in contents, repeated ones included
  int services_repeated = 0;            // listed again on a later page: imported once
  int services_sent = 0;                // handed to the sink
  std::vector<RefusedService> refused;  // not sent: no id, full record not fetched or not valid
  std::vector<FailedPage> failed_pages;
  std::string stopped_because;  // why no further page was asked for
};

// Pages through GET /services?page=N&per_page=M from page 1, stopping at last_page, at
// total_pages, at an empty page, at a page that only repeats services already read (a server
// ignoring `page`), after max_pages, or after max_consecutive_failed_pages failures in a row.
// Each listed service whose list item is not fully nested (ORUK list items are not: no
// attributes, no service_at_locations) is read from GET /services/{id}. A page failing after its
// retries is reported and the next one asked for; a service failing is refused with the reason.
// Returns an error only when the sink fails.
absl::StatusOr<OrukReadSummary> ReadOrukServices(const OrukFetcher& fetch,
                                                 const OrukPagingOptions& options,
                                                 const OrukDocumentSink& sink);

}  // namespace signpost::ctl
