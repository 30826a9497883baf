// signpostctl tasks watch | list
#include <CLI/CLI.hpp>

#include "signpost/v1/followup_service.grpc.pb.h"
#include "tools/ctl/commands.h"

namespace signpost::ctl {

void AddTaskCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  auto worker = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  auto network = std::make_shared<std::string>("unspecified");
  CLI::App* tasks =
      app.add_subcommand("tasks", "A link worker's task queue")->require_subcommand(1);

  CLI::App* watch = tasks->add_subcommand(
      "watch",
      "Follow a queue as a link-worker app does: open tasks, then each change (JSON "
      "lines; resume with the last resume_token)");
  watch->add_option("--worker", *worker, "Link worker id, or team:<network id>")->required();
  watch->add_option("--resume", *token, "Resume token from an earlier watch");
  watch->add_option("--network", *network, "Development token: the link worker's network");
  watch->callback([&ctx, &exit_code, worker, token, network] {
    auto stub = v1::FollowUpService::NewStub(ctx.Channel(ctx.followup, "followup"));
    grpc::ClientContext context;
    ctx.Authorise(context, auth::QueueOwner(*worker, *network, "signpostctl"));
    v1::SubscribeTasksRequest request;
    request.set_link_worker_id(*worker);
    request.set_resume_token(*token);
    auto reader = stub->SubscribeTasks(&context, request);
    v1::TaskUpdate update;
    while (reader->Read(&update)) PrintJson(update);
    exit_code = Report(reader->Finish(), "tasks watch");
  });

  CLI::App* list = tasks->add_subcommand("list", "A queue's open tasks");
  list->add_option("--worker", *worker, "Link worker id, or team:<network id>")->required();
  list->add_option("--network", *network, "Development token: the link worker's network");
  list->callback([&ctx, &exit_code, worker, network] {
    auto stub = v1::FollowUpService::NewStub(ctx.Channel(ctx.followup, "followup"));
    grpc::ClientContext context;
    ctx.Authorise(context, auth::QueueOwner(*worker, *network, "signpostctl"));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListTasksRequest request;
    request.set_link_worker_id(*worker);
    v1::ListTasksResponse response;
    grpc::Status status = stub->ListTasks(&context, request, &response);
    if (!status.ok()) {
      exit_code = Report(status, "tasks list");
      return;
    }
    for (const auto& task : response.tasks()) PrintJson(task);
  });
}

}  // namespace signpost::ctl
