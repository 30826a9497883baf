#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "signpost/v1/directory_service.grpc.pb.h"

namespace signpost::followup {

// Takes a place at a resource for a referral: the directory (signpost-matching) owns capacity.
class PlaceReserver {
 public:
  virtual ~PlaceReserver() = default;
  // RESOURCE_EXHAUSTED when none is left; a repeated call for the same referral is OK. The place
  // is taken on behalf of the caller whose bearer token is `caller_token` (empty: none).
  virtual absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string& resource_id,
                                                           const std::string& referral_id,
                                                           const std::string& caller_token) = 0;
};

// Over gRPC to DirectoryService.ReservePlace.
class GrpcPlaceReserver final : public PlaceReserver {
 public:
  GrpcPlaceReserver(const std::string& directory_address,
                    std::shared_ptr<grpc::ChannelCredentials> credentials);
  absl::StatusOr<v1::ReservePlaceResponse> Reserve(const std::string& resource_id,
                                                   const std::string& referral_id,
                                                   const std::string& caller_token) override;

 private:
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
};

}  // namespace signpost::followup
