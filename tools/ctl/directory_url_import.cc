#include "tools/ctl/directory_url_import.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "signpost/v1/directory_service.grpc.pb.h"
#include "tools/ctl/oruk_http_fetcher.h"
#include "tools/ctl/oruk_remote_reader.h"

namespace signpost::ctl {

int ImportDirectoryFromUrl(const CtlContext& ctx, const UrlImportArgs& args) {
  HttpFetchOptions http;
  http.base_url = args.base_url;
  http.ca_file = args.tls_ca;
  http.max_body_bytes = static_cast<size_t>(args.max_reply_mib) << 20;
  http.reply_timeout = absl::Seconds(args.reply_timeout_seconds);
  auto fetch = MakeHttpFetcher(http);
  if (!fetch.ok()) {
    std::fprintf(stderr, "signpostctl: %s\n", std::string(fetch.status().message()).c_str());
    return kUsage;
  }
  OrukPagingOptions paging;
  paging.per_page = args.per_page;
  paging.modified_after = args.modified_after;
  paging.max_pages = args.max_pages;
  paging.attempts = args.attempts;

  auto stub = v1::DirectoryService::NewStub(ctx.Channel(ctx.matching, "matching"));
  grpc::ClientContext context;
  ctx.Authorise(context, {auth::Role::kDirectoryAdmin, "signpostctl", {}, ""});
  // One stream for the whole run: a large directory over a slow API takes a while.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(6));
  auto stream = stub->ImportOpenReferralStream(&context);
  int imported = 0, rejected = 0;
  std::vector<RefusedService> refused_by_matching;
  // One document in flight: send a page, print its refusals, read the next page.
  auto sink = [&](const OrukDocument& document) -> absl::Status {
    v1::ImportOpenReferralRequest request;
    request.set_document(absl::StrCat(args.base_url, " ", document.name));
    request.set_json(document.json);
    v1::ImportOpenReferralResponse response;
    if (!stream->Write(request) || !stream->Read(&response)) {
      return absl::UnavailableError("the import stream to matching ended");
    }
    imported += response.accepted();
    rejected += response.rejected();
    if (ctx.json) PrintJson(response);
    for (const auto& r : response.results()) {
      if (r.accepted()) continue;
      refused_by_matching.push_back({r.id(), r.reason()});
      if (!ctx.json) std::cout << "REFUSED " << r.id() << ": " << r.reason() << "\n";
    }
    if (!ctx.json) {
      std::cout << document.name << ": " << document.services << " sent, " << response.accepted()
                << " imported, " << response.rejected() << " refused\n";
    }
    return absl::OkStatus();
  };
  absl::StatusOr<OrukReadSummary> summary = ReadOrukServices(*fetch, paging, sink);
  stream->WritesDone();
  grpc::Status finished = stream->Finish();
  if (!finished.ok()) return Report(finished, "directory import");
  if (!summary.ok()) return Report(summary.status(), "directory import");

  const int refused = static_cast<int>(summary->refused.size()) + rejected;
  if (ctx.json) {
    nlohmann::json out = {{"url", args.base_url},
                          {"pages_read", summary->pages_read},
                          {"read", summary->services_read},
                          {"repeated", summary->services_repeated},
                          {"imported", imported},
                          {"refused", refused},
                          {"stopped_because", summary->stopped_because}};
    out["refusals"] = nlohmann::json::array();
    for (const auto& r : summary->refused) {
      out["refusals"].push_back({{"id", r.id}, {"reason", r.reason}});
    }
    for (const auto& r : refused_by_matching) {
      out["refusals"].push_back({{"id", r.id}, {"reason", r.reason}});
    }
    out["failed_pages"] = nlohmann::json::array();
    for (const auto& p : summary->failed_pages) {
      out["failed_pages"].push_back({{"page", p.page}, {"reason", p.reason}});
    }
    std::cout << out.dump() << "\n";
  } else {
    for (const auto& r : summary->refused)
      std::cout << "REFUSED " << r.id << ": " << r.reason << "\n";
    for (const auto& p : summary->failed_pages) {
      std::cout << "PAGE " << p.page << " FAILED: " << p.reason << "\n";
    }
    std::cout << args.base_url << ": " << summary->services_read << " read, " << imported
              << " imported, " << refused << " refused, " << summary->failed_pages.size()
              << " pages failed (" << summary->pages_read
              << " pages read; stopped: " << summary->stopped_because << ")\n";
  }
  if (summary->pages_read == 0 && !summary->failed_pages.empty()) {
    std::fprintf(stderr, "signpostctl: directory import: no page of %s could be read\n",
                 args.base_url.c_str());
    return kUnavailable;
  }
  if (!summary->failed_pages.empty()) return kIncomplete;
  return refused == 0 ? kOk : kFailed;
}

}  // namespace signpost::ctl
