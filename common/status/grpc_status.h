#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace signpost {

// Maps an absl::Status to a grpc::Status one-to-one by code. Field violations travel as a
// google.rpc.Status with a google.rpc.BadRequest detail in the grpc-status-details-bin trailer,
// which standard gRPC clients decode.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients of our own services; keeps field violations.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace signpost
