// signpostctl directory import | search | capacity
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "signpost/v1/directory_service.grpc.pb.h"
#include "tools/ctl/commands.h"
#include "tools/ctl/directory_url_import.h"

namespace signpost::ctl {
namespace {

struct DirectoryArgs {
  std::string postcode, id;
  std::vector<std::string> files;
  std::vector<std::string> needs;
  double radius_km = 0;
  int places = -1;
  bool waitlist_open = false;
  UrlImportArgs remote;  // import --url
};

grpc::ClientContext* WithDeadline(grpc::ClientContext& context, int seconds) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return &context;
}

}  // namespace

void AddDirectoryCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  auto args = std::make_shared<DirectoryArgs>();
  CLI::App* dir = app.add_subcommand("directory", "The directory of community resources")
                      ->require_subcommand(1);

  CLI::App* import = dir->add_subcommand(
      "import",
      "Import Open Referral UK / HSDS JSON files, or a remote Open Referral UK 3.0 API (--url)");
  CLI::Option* files =
      import
          ->add_option("files", args->files,
                       "JSON: an array of services, or {\"services\"|\"items\": [...]}; each "
                       "file is streamed as one document")
          ->check(CLI::ExistingFile);
  CLI::Option* url =
      import->add_option("--url", args->remote.base_url,
                         "Base URL of an Open Referral UK 3.0 API: pages through BASE/services and "
                         "reads each service from BASE/services/{id}");
  url->excludes(files);
  import->add_option("--per-page", args->remote.per_page, "Services asked for per page")
      ->check(CLI::Range(1, 1000))
      ->needs(url);
  import
      ->add_option("--modified-after", args->remote.modified_after,
                   "Only services changed on or after this time (ISO 8601), passed to the API")
      ->needs(url);
  // After `import`, --tls-ca is the remote API's CA; the services' CA is the --tls-ca given
  // before `directory`.
  import
      ->add_option("--tls-ca", args->remote.tls_ca,
                   "With --url: CA file for the API's HTTPS certificate (default: the system's "
                   "trust store)")
      ->check(CLI::ExistingFile)
      ->needs(url);
  import->add_option("--max-pages", args->remote.max_pages, "Stop after this many pages")
      ->check(CLI::Range(1, 1000000))
      ->needs(url);
  import
      ->add_option("--max-reply-mib", args->remote.max_reply_mib,
                   "Refuse a reply (a page or a service) larger than this")
      ->check(CLI::Range(1, 1024))
      ->needs(url);
  import
      ->add_option("--reply-timeout", args->remote.reply_timeout_seconds,
                   "Seconds one reply (a page or a service) may take in all; a slower one is "
                   "tried again, then its page fails or its service is refused")
      ->check(CLI::Range(1, 3600))
      ->needs(url);
  import->callback([&ctx, &exit_code, args] {
    if (!args->remote.base_url.empty()) {
      exit_code = ImportDirectoryFromUrl(ctx, args->remote);
  return;
}
if (args->files.empty()) {
  std::fprintf(stderr, "signpostctl: directory import: give JSON files or --url BASE\n");
  exit_code = kUsage;
  return;
}
auto stub = v1::DirectoryService::NewStub(ctx.Channel(ctx.matching, "matching"));
grpc::ClientContext context;
ctx.Authorise(context, {auth::Role::kDirectoryAdmin, "signpostctl", {}, ""});
auto stream = stub->ImportOpenReferralStream(WithDeadline(context, 600));
int accepted = 0, rejected = 0;
// One document in flight at a time: send a file, print its results, send the next.
for (const auto& file : args->files) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  v1::ImportOpenReferralRequest request;
  request.set_document(file);
  request.set_json(text.str());
  v1::ImportOpenReferralResponse response;
  if (!stream->Write(request) || !stream->Read(&response)) break;
  accepted += response.accepted();
  rejected += response.rejected();
  if (ctx.json) {
    PrintJson(response);
    continue;
  }
  for (const auto& r : response.results()) {
    std::cout << (r.accepted() ? "accepted " : "REJECTED ") << r.id()
              << (r.reason().empty() ? "" : ": " + r.reason()) << "\n";
  }
  std::cout << file << ": " << response.accepted() << " accepted, " << response.rejected()
            << " rejected\n";
}
stream->WritesDone();
grpc::Status status = stream->Finish();
if (!status.ok()) {
  exit_code = Report(status, "directory import");
  return;
}
if (!ctx.json && args->files.size() > 1) {
  std::cout << accepted << " accepted, " << rejected << " rejected in all\n";
}
exit_code = rejected == 0 ? kOk : kFailed;
}  // namespace signpost::ctl
);

CLI::App* search = dir->add_subcommand("search", "Resources near a postcode for some needs");
search->add_option("--postcode", args->postcode, "Where, e.g. \"LS6 1BD\"")->required();
search->add_option("--need", args->needs, "Need category, e.g. loneliness (repeatable)")
    ->required();
search->add_option("--radius-km", args->radius_km, "0: the deployment's default");
search->callback([&ctx, &exit_code, args] {
  v1::SearchResourcesRequest request;
  request.set_postcode(args->postcode);
  request.set_radius_km(args->radius_km);
  for (const auto& name : args->needs) {
    v1::NeedCategory need;
    if (!v1::NeedCategory_Parse(absl::StrCat("NEED_CATEGORY_", absl::AsciiStrToUpper(name)),
                                &need)) {
      std::fprintf(stderr, "signpostctl: unknown need '%s' (e.g. loneliness, debt_and_money)\n",
                   name.c_str());
      exit_code = kUsage;
      return;
    }
    request.add_needs(need);
  }
  auto stub = v1::DirectoryService::NewStub(ctx.Channel(ctx.matching, "matching"));
  grpc::ClientContext context;
  ctx.Authorise(context, {auth::Role::kDirectoryAdmin, "signpostctl", {}, ""});
  v1::SearchResourcesResponse response;
  grpc::Status status = stub->SearchResources(WithDeadline(context, 10), request, &response);
  if (!status.ok()) {
    exit_code = Report(status, "directory search");
    return;
  }
  if (ctx.json) {
    PrintJson(response);
    return;
  }
  for (const auto& result : response.results()) {
    std::cout << v1::NeedCategory_Name(result.need().category()) << ":\n";
    for (const auto& o : result.options()) {
      std::cout << "  " << o.resource_id() << "  " << o.resource_name() << "  ("
                << absl::StrJoin(o.reasons(), ", ") << ")\n";
    }
    if (result.options().empty()) std::cout << "  nothing suitable\n";
  }
});

CLI::App* capacity = dir->add_subcommand("capacity", "Set a resource's places and waitlist");
capacity->add_option("id", args->id, "Resource id")->required();
capacity->add_option("--places", args->places, "Places available now")
    ->required()
    ->check(CLI::Range(0, 100000));
capacity->add_flag("--waitlist-open", args->waitlist_open, "New people can join a waitlist");
capacity->callback([&ctx, &exit_code, args] {
  auto stub = v1::DirectoryService::NewStub(ctx.Channel(ctx.matching, "matching"));
  grpc::ClientContext context;
  ctx.Authorise(context, {auth::Role::kDirectoryAdmin, "signpostctl", {}, ""});
  v1::UpdateCapacityRequest request;
  request.set_id(args->id);
  request.set_places_available(args->places);
  request.set_waitlist_open(args->waitlist_open);
  v1::Resource response;
  grpc::Status status = stub->UpdateCapacity(WithDeadline(context, 10), request, &response);
  if (!status.ok()) {
    exit_code = Report(status, "directory capacity");
    return;
  }
  PrintJson(response.capacity());
});
}  // namespace signpost::ctl

}  // namespace signpost::ctl
