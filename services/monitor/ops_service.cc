#include "services/monitor/ops_service.h"

#include <thread>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status/grpc_status.h"

namespace signpost::monitor {
namespace {

// One WatchFlows call: a snapshot, a pause, the next, until the caller leaves or the server
// stops. A thread per watcher: watchers are operators' screens, a handful at a time.
class FlowWatch final : public grpc::ServerWriteReactor<v1::FlowSnapshot> {
 public:
  FlowWatch(const Monitor& stats, std::function<absl::Time()> clock, absl::Duration interval,
            absl::Time accepted_until)
      : stats_(stats),
        clock_(std::move(clock)),
        interval_(interval),
        accepted_until_(accepted_until) {
    thread_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) ending_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    ending_ = true;
  }
  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      ending_ = true;
    }
    thread_.join();
    delete this;
  }

 private:
  void Run() {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (ending_) break;
        // Nothing more once the caller's token is no longer accepted.
        if (absl::Now() >= accepted_until_) {
          expired_ = true;
          break;
        }
        snapshot_ = stats_.Snapshot(clock_());
        writing_ = true;
      }
      StartWrite(&snapshot_);
      absl::MutexLock lock(&mu_);
      // OnWriteDone always comes, with ok=false when the call has ended.
      mu_.Await(absl::Condition(
          +[](bool* writing) { return !*writing; }, &writing_));
      if (ending_) break;
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](bool* ending) { return *ending; }, &ending_),
                           interval_);
    }
    Finish(expired_ ? grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   "bearer token expired: watch again with a fresh token")
                    : grpc::Status::OK);
  }

  const Monitor& stats_;
  std::function<absl::Time()> clock_;
  absl::Duration interval_;
  const absl::Time accepted_until_;
  bool expired_ = false;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  v1::FlowSnapshot snapshot_;
  std::thread thread_;
};

// A watch refused before it starts.
class RefusedWatch final : public grpc::ServerWriteReactor<v1::FlowSnapshot> {
 public:
  explicit RefusedWatch(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& why) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(why));
  return reactor;
}

}  // namespace

OpsService::OpsService(const Monitor& stats, std::function<absl::Time()> clock,
                       const auth::CallAuthenticator& auth)
    : stats_(stats), clock_(std::move(clock)), auth_(auth) {}

absl::StatusOr<auth::Principal> OpsService::Allow(const grpc::CallbackServerContext& context,
                                                  absl::string_view rpc) const {
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = auth::RequireRole(*caller, {auth::Role::kOps}, rpc); !s.ok()) return s;
  return caller;
}

grpc::ServerUnaryReactor* OpsService::GetFlowSnapshot(grpc::CallbackServerContext* context,
                                                      const v1::GetFlowSnapshotRequest*,
                                                      v1::FlowSnapshot* response) {
  if (auto caller = Allow(*context, "OpsService/GetFlowSnapshot"); !caller.ok()) {
    return Refuse(context, caller.status());
  }
  *response = stats_.Snapshot(clock_());
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* OpsService::GetGapReport(grpc::CallbackServerContext* context,
                                                   const v1::GapReportRequest* request,
                                                   v1::GapReport* response) {
  if (auto caller = Allow(*context, "OpsService/GetGapReport"); !caller.ok()) {
    return Refuse(context, caller.status());
  }
  auto report = stats_.GapReport(*request, clock_());
  if (report.ok()) *response = *std::move(report);
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(report.status()));
  return reactor;
}

grpc::ServerUnaryReactor* OpsService::GetEquityFunnel(grpc::CallbackServerContext* context,
                                                      const v1::EquityFunnelRequest*,
                                                      v1::EquityFunnel* response) {
  if (auto caller = Allow(*context, "OpsService/GetEquityFunnel"); !caller.ok()) {
    return Refuse(context, caller.status());
  }
  *response = stats_.EquityFunnel();
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* OpsService::GetProvision(grpc::CallbackServerContext* context,
                                                   const v1::ProvisionRequest*,
                                                   v1::Provision* response) {
  if (auto caller = Allow(*context, "OpsService/GetProvision"); !caller.ok()) {
    return Refuse(context, caller.status());
  }
  *response = stats_.Provision();
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::FlowSnapshot>* OpsService::WatchFlows(
    grpc::CallbackServerContext* context, const v1::WatchFlowsRequest* request) {
  absl::StatusOr<auth::Principal> caller = Allow(*context, "OpsService/WatchFlows");
  if (!caller.ok()) return new RefusedWatch(caller.status());
  int seconds = request->interval_seconds() > 0 ? request->interval_seconds() : 2;
  return new FlowWatch(stats_, clock_, absl::Seconds(std::min(seconds, 60)),
                       caller->accepted_until);
}

}  // namespace signpost::monitor
