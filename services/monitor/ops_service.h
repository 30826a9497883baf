#pragma once

#include <functional>

#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"
#include "services/monitor/monitor.h"
#include "signpost/v1/ops_service.grpc.pb.h"

namespace signpost::monitor {

// signpost.v1.OpsService over the monitor's figures: aggregates only, for the ops role.
class OpsService final : public v1::OpsService::CallbackService {
 public:
  OpsService(const Monitor& stats, std::function<absl::Time()> clock,
             const auth::CallAuthenticator& auth);

  grpc::ServerUnaryReactor* GetFlowSnapshot(grpc::CallbackServerContext* context,
                                            const v1::GetFlowSnapshotRequest* request,
                                            v1::FlowSnapshot* response) override;
  grpc::ServerWriteReactor<v1::FlowSnapshot>* WatchFlows(
      grpc::CallbackServerContext* context, const v1::WatchFlowsRequest* request) override;
  grpc::ServerUnaryReactor* GetGapReport(grpc::CallbackServerContext* context,
                                         const v1::GapReportRequest* request,
                                         v1::GapReport* response) override;
  grpc::ServerUnaryReactor* GetEquityFunnel(grpc::CallbackServerContext* context,
                                            const v1::EquityFunnelRequest* request,
                                            v1::EquityFunnel* response) override;
  grpc::ServerUnaryReactor* GetProvision(grpc::CallbackServerContext* context,
                                         const v1::ProvisionRequest* request,
                                         v1::Provision* response) override;

 private:
  // Who may call what here, in one place: the ops role, every RPC.
  absl::StatusOr<auth::Principal> Allow(const grpc::CallbackServerContext& context,
                                        absl::string_view rpc) const;

  const Monitor& stats_;
  std::function<absl::Time()> clock_;
  const auth::CallAuthenticator& auth_;
};

}  // namespace signpost::monitor
