#pragma once

#include <functional>

#include "common/auth/call_authenticator.h"
#include "common/grpc/call_offload.h"
#include "common/kafka/producer.h"
#include "common/process/worker_pool.h"
#include "services/matching/directory_access.h"
#include "services/matching/directory_index.h"
#include "services/matching/match_policy.h"
#include "services/matching/place_reservations.h"
#include "services/matching/postcode_lookup.h"
#include "services/matching/roster.h"
#include "signpost/v1/directory_service.grpc.pb.h"

namespace signpost::matching {

// signpost.v1.DirectoryService. Writes are published to the directory topic (acks=all) and then
// applied to the cache, so a read after a write sees it and every matching instance follows.
// What waits (Redis, the broker) runs on `workers`, never on gRPC's callback threads
// (common/grpc/call_offload.h): a call finding their queue full is refused RESOURCE_EXHAUSTED.
class DirectoryService final : public v1::DirectoryService::CallbackService {
 public:
  DirectoryService(DirectoryIndex& cache, Roster& roster, PlaceReservations& places,
                   PostcodeLookup& postcodes, kafka::Producer& producer,
                   std::string directory_topic, MatchPolicy policy,
                   std::function<absl::Time()> clock, const auth::CallAuthenticator& auth,
                   WorkerPool& workers);

  grpc::ServerUnaryReactor* UpsertResource(grpc::CallbackServerContext* context,
                                           const v1::UpsertResourceRequest* request,
                                           v1::Resource* response) override;
  grpc::ServerUnaryReactor* RemoveResource(grpc::CallbackServerContext* context,
                                           const v1::RemoveResourceRequest* request,
                                           v1::RemoveResourceResponse* response) override;
  grpc::ServerUnaryReactor* GetResource(grpc::CallbackServerContext* context,
                                        const v1::GetResourceRequest* request,
                                        v1::Resource* response) override;
  grpc::ServerUnaryReactor* SearchResources(grpc::CallbackServerContext* context,
                                            const v1::SearchResourcesRequest* request,
                                            v1::SearchResourcesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCapacity(grpc::CallbackServerContext* context,
                                           const v1::UpdateCapacityRequest* request,
                                           v1::Resource* response) override;
  grpc::ServerUnaryReactor* ImportOpenReferral(grpc::CallbackServerContext* context,
                                               const v1::ImportOpenReferralRequest* request,
                                               v1::ImportOpenReferralResponse* response) override;
  grpc::ServerBidiReactor<v1::ImportOpenReferralRequest, v1::ImportOpenReferralResponse>*
  ImportOpenReferralStream(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UpsertLinkWorker(grpc::CallbackServerContext* context,
                                             const v1::LinkWorker* request,
                                             v1::LinkWorker* response) override;
  grpc::ServerUnaryReactor* ReservePlace(grpc::CallbackServerContext* context,
                                         const v1::ReservePlaceRequest* request,
                                         v1::ReservePlaceResponse* response) override;
  grpc::ServerUnaryReactor* UpsertNetwork(grpc::CallbackServerContext* context,
                                          const v1::Network* request,
                                          v1::Network* response) override;

  // The operations behind the RPCs, as statuses (used by the RPCs and by tests).
  absl::Status Upsert(const v1::Resource& resource);
  absl::StatusOr<v1::SearchResourcesResponse> Search(const v1::SearchResourcesRequest& request);
  // A place for a referral on behalf of `caller`, scoped to their case (CanReserveFor), once per
  // referral and resource.
  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const auth::Principal& caller,
                                                   const v1::ReservePlaceRequest& request);
  // One Open Referral document: every record applied or rejected with its reason. Fails only
  // when the document is not JSON of services (INVALID_ARGUMENT) or the directory is unreachable.
  absl::StatusOr<v1::ImportOpenReferralResponse> Import(
      const v1::ImportOpenReferralRequest& request);

 private:
  absl::Status Publish(const std::string& key, v1::Event event);
  // A resource whose places changed, to the directory topic, with any later version after it.
  absl::Status PublishPlaces(v1::Resource resource);
  // The caller, authenticated and allowed `rpc` (directory_access.h).
  absl::StatusOr<auth::Principal> Allow(const grpc::CallbackServerContext& context,
                                        DirectoryRpc rpc) const;

  DirectoryIndex& cache_;
  Roster& roster_;
  PlaceReservations& places_;
  PostcodeLookup& postcodes_;
  kafka::Producer& producer_;
  std::string topic_;
  MatchPolicy policy_;
  std::function<absl::Time()> clock_;
  const auth::CallAuthenticator& auth_;
  CallOffload offload_;
};

}  // namespace signpost::matching
