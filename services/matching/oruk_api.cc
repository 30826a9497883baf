#include "services/matching/oruk_api.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/matching/oruk_ids.h"
#include "services/matching/oruk_query.h"
#include "services/matching/oruk_service_json.h"
#include "spdlog/spdlog.h"

namespace signpost::matching {
namespace {

using Request = metrics::HttpEndpoint::Request;
using Response = metrics::HttpEndpoint::Response;

Response Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  // A record's text that is not UTF-8 is answered with U+FFFD, not an exception.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers = {{"Access-Control-Allow-Origin", "*"}};
  return r;
}

Response Error(int status, const std::string& message, const std::string& parameter = "") {
  return Json(status, ErrorBody(status, message, parameter));
}

// A failure to read the cache: the client may try again; the reason is logged, not sent.
Response Unavailable(const absl::Status& status, const char* what) {
  spdlog::warn("ORUK API: {}: {}", what, status.ToString());
  return Error(503, "the directory cannot be read just now; try again");
}

Response NotReady() { return Error(503, "the directory is loading; try again"); }

// A place among the requests reading the directory at once, held until the answer is made.
class ReadSlot {
 public:
  explicit ReadSlot(std::atomic<int>& in_flight) : in_flight_(in_flight) {
    taken_ = in_flight_.fetch_add(1) < OrukApi::kMaxConcurrentReads;
  }
  ~ReadSlot() { in_flight_.fetch_sub(1); }
  ReadSlot(const ReadSlot&) = delete;
  ReadSlot& operator=(const ReadSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  std::atomic<int>& in_flight_;
  bool taken_ = false;
};

Response Busy() {
  Response r = Error(503, "the directory is answering as many requests as it can; try again");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

Response OrukApi::Root(const Request&) const { return Json(200, ApiDetails()); }

Response OrukApi::Services(const Request& request) const {
  auto query = ParseServicesQuery(request.params);
  if (!query.ok()) {
    return Error(400, std::string(query.status().message()), ParameterOf(query.status()));
  }
  if (!ready_()) return NotReady();
  ReadSlot slot(reads_in_flight_);
  if (!slot.taken()) return Busy();
  auto ids = listing_.Ids();
  if (!ids.ok()) return Unavailable(ids.status(), "listing the directory");
  const size_t per_page = static_cast<size_t>(query->per_page);
  const size_t first = static_cast<size_t>(query->page - 1) * per_page;
  std::vector<nlohmann::json> contents;
  int64_t total = 0;
  if (!query->Filters()) {
    // The page is a slice of the sorted ids; only its records are read.
    total = static_cast<int64_t>(ids->size());
    if (first < ids->size()) {
      std::vector<std::string> slice(
          ids->begin() + static_cast<std::ptrdiff_t>(first),
          ids->begin() + static_cast<std::ptrdiff_t>(std::min(ids->size(), first + per_page)));
      auto records = listing_.Records(slice);
      if (!records.ok()) return Unavailable(records.status(), "reading services");
      for (const v1::Resource& r : *records) contents.push_back(ServiceListItem(r));
    }
  } else {
    // Every record is read, a batch at a time, to count the selected ones; only the page's are
    // kept.
    for (size_t from = 0; from < ids->size(); from += DirectoryListing::kRecordsPerRead) {
      std::vector<std::string> batch(
          ids->begin() + static_cast<std::ptrdiff_t>(from),
          ids->begin() + static_cast<std::ptrdiff_t>(
                             std::min(ids->size(), from + DirectoryListing::kRecordsPerRead)));
      auto records = listing_.Records(batch);
      if (!records.ok()) return Unavailable(records.status(), "reading services");
      for (const v1::Resource& r : *records) {
        if (!Selects(*query, r)) continue;
        const size_t position = static_cast<size_t>(total++);
        if (position >= first && position < first + per_page) {
          contents.push_back(ServiceListItem(r));
        }
      }
    }
  }
  return Json(200, ServicePage(std::move(contents), total, query->page, query->per_page));
}

Response OrukApi::Service(const Request& request) const {
  const std::string id = request.path_matches.size() > 1 ? request.path_matches[1] : "";
  if (!ready_()) return NotReady();
  // A Signpost id that is a UUID is its own ORUK id, and a Signpost id is also accepted as
  // given: both are one read.
  auto direct = directory_.GetResource(id);
  if (!direct.ok()) return Unavailable(direct.status(), "reading a service");
  if (direct->has_value()) return Json(200, FullService(**direct));
  if (IsLowerCaseUuid(id)) {
    // A name-based id: found by deriving every listed id's, a walk of the directory like a page.
    ReadSlot slot(reads_in_flight_);
    if (!slot.taken()) return Busy();
    auto ids = listing_.Ids();
    if (!ids.ok()) return Unavailable(ids.status(), "listing the directory");
    for (const std::string& signpost_id : *ids) {
      if (OrukId("service", signpost_id) != id) continue;
      auto found = directory_.GetResource(signpost_id);
      if (!found.ok()) return Unavailable(found.status(), "reading a service");
      if (found->has_value()) return Json(200, FullService(**found));
      break;
    }
  }
  return Error(404, absl::StrCat("no service ", id));
}

void AddOrukApi(ServiceHost& host, DirectoryIndex& directory, redis::RedisClient& redis,
                std::function<bool()> ready) {
  auto& listing = host.Make<DirectoryListing>(redis);
  auto& api = host.Make<OrukApi>(directory, listing, std::move(ready));
  using Method = metrics::HttpEndpoint::Method;
  const std::string base = kOrukBase;
  host.AddRoute(Method::kGet, absl::StrCat(base, "/?"),
                [&api](const Request& r) { return api.Root(r); });
  host.AddRoute(Method::kGet, absl::StrCat(base, "/services/?"),
                [&api](const Request& r) { return api.Services(r); });
  host.AddRoute(Method::kGet, absl::StrCat(base, "/services/([^/]{1,200})"),
                [&api](const Request& r) { return api.Service(r); });
  // Any other path under the base: a JSON 404 with the CORS header, not httplib's bare one.
  host.AddRoute(Method::kGet, absl::StrCat(base, "/.*"), [](const Request& r) {
    return Error(404, absl::StrCat("no such ORUK endpoint ", r.path));
  });
}

}  // namespace signpost::matching
