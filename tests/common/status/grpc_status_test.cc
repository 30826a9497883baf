#include "common/status/grpc_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status/field_violations.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace signpost {
namespace {

TEST(GrpcStatusTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("down")).error_code(), grpc::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("down")).error_message(), "down");
}

TEST(GrpcStatusTest, FieldViolationsTravelAsStandardBadRequestDetails) {
  grpc::Status status = ToGrpcStatus(InvalidArgumentWithViolations(
      {{"profile.home_postcode", "not a UK postcode"}, {"referrer.ods_code", "malformed"}}));
  ASSERT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(grpc::INVALID_ARGUMENT));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(0).field(), "profile.home_postcode");
  EXPECT_EQ(bad_request.field_violations(1).description(), "malformed");
}

TEST(GrpcStatusTest, RoundTripKeepsCodeMessageAndViolations) {
  absl::Status original =
      FailedPreconditionWithViolations({{"consent.referral_consent", "consent not given"}});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_EQ(ViolationsOf(back), ViolationsOf(original));
}

}  // namespace
}  // namespace signpost
