#pragma once

#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"
#include "common/grpc/call_offload.h"
#include "common/process/worker_pool.h"
#include "services/followup/access_audit.h"
#include "services/followup/case_api.h"
#include "services/followup/case_commands.h"
#include "services/followup/case_details_seal.h"
#include "services/followup/case_store.h"
#include "services/followup/task_feed.h"
#include "signpost/v1/followup_service.grpc.pb.h"

namespace signpost::followup {

// signpost.v1.FollowUpService: the gRPC transport over CaseApi (which holds the case logic);
// task streams over TaskFeed.
class FollowUpService final : public v1::FollowUpService::CallbackService {
 public:
  // Every call is authenticated by `auth` and acts as the queue case_access.h allows. What waits
  // (Redis, the broker, the directory) runs on `workers`, never on gRPC's callback threads
  // (common/grpc/call_offload.h): a call finding their queue full is refused RESOURCE_EXHAUSTED.
  // `seal` opens a case's sealed details for GetCase, the one call that delivers them.
  FollowUpService(CaseCommands& commands, CaseStore& store, TaskFeed& feed, AccessAudit& audit,
                  const CaseDetailsSeal& seal, const auth::CallAuthenticator& auth,
                  WorkerPool& workers);

  // The case logic these calls run, for another transport to run the same (the link-worker
  // app's HTTP routes).
  CaseApi& case_api() { return api_; }

  grpc::ServerWriteReactor<v1::TaskUpdate>* SubscribeTasks(
      grpc::CallbackServerContext* context, const v1::SubscribeTasksRequest* request) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* context,
                                      const v1::ListTasksRequest* request,
                                      v1::ListTasksResponse* response) override;
  grpc::ServerUnaryReactor* CompleteTask(grpc::CallbackServerContext* context,
                                         const v1::CompleteTaskRequest* request,
                                         v1::Task* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context,
                                    const v1::GetCaseRequest* request, v1::Case* response) override;
  grpc::ServerUnaryReactor* RecordContact(grpc::CallbackServerContext* context,
                                          const v1::RecordContactRequest* request,
                                          v1::Case* response) override;
  grpc::ServerUnaryReactor* AgreePlan(grpc::CallbackServerContext* context,
                                      const v1::AgreePlanRequest* request,
                                      v1::Case* response) override;
  grpc::ServerUnaryReactor* RecordConnection(grpc::CallbackServerContext* context,
                                             const v1::RecordConnectionRequest* request,
                                             v1::Case* response) override;
  grpc::ServerUnaryReactor* RecordAttendance(grpc::CallbackServerContext* context,
                                             const v1::RecordAttendanceRequest* request,
                                             v1::Case* response) override;
  grpc::ServerUnaryReactor* RecordOutcome(grpc::CallbackServerContext* context,
                                          const v1::RecordOutcomeRequest* request,
                                          v1::Case* response) override;
  grpc::ServerUnaryReactor* CloseCase(grpc::CallbackServerContext* context,
                                      const v1::CloseCaseRequest* request,
                                      v1::Case* response) override;
  grpc::ServerUnaryReactor* ReassignCase(grpc::CallbackServerContext* context,
                                         const v1::ReassignCaseRequest* request,
                                         v1::Case* response) override;

 private:
  // The caller, the queue it acts as and its bearer token; fails with UNAUTHENTICATED or
  // PERMISSION_DENIED.
  absl::StatusOr<Acting> Authorise(const grpc::CallbackServerContext& context,
                                   const std::string& requested_queue, absl::string_view rpc) const;

  CaseApi api_;
  TaskFeed& feed_;
  const auth::CallAuthenticator& auth_;
  CallOffload offload_;
};

}  // namespace signpost::followup
