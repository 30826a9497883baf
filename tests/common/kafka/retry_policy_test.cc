#include "common/kafka/retry_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::kafka {
namespace {

using Kind = Outcome::Kind;

TEST(RetryPolicyTest, OkIsDone) { EXPECT_EQ(OutcomeOf(absl::OkStatus()).kind, Kind::kDone); }

TEST(RetryPolicyTest, WhatCanNeverSucceedIsDeadLetteredWithItsReason) {
  Outcome unreadable = OutcomeOf(absl::InvalidArgumentError("value is not a signpost.v1.Event"));
  EXPECT_EQ(unreadable.kind, Kind::kDeadLetter);
  EXPECT_EQ(unreadable.reason, "value is not a signpost.v1.Event");
  Outcome corrupt = OutcomeOf(absl::DataLossError("sealed personal details do not authenticate"));
  EXPECT_EQ(corrupt.kind, Kind::kDeadLetter);
  EXPECT_EQ(corrupt.reason, "sealed personal details do not authenticate");
  // A reason is never empty.
  EXPECT_EQ(OutcomeOf(absl::DataLossError("")).reason, "DATA_LOSS");
}

TEST(RetryPolicyTest, TransientInfrastructureErrorsAreRetriedNeverDeadLettered) {
  for (const absl::Status& s : {
           absl::UnavailableError("redis: LOADING Redis is loading the dataset in memory"),
           absl::UnavailableError("redis: OOM command not allowed when used memory > 'maxmemory'"),
           absl::DeadlineExceededError("redis: timed out"),
           absl::ResourceExhaustedError("kafka: queue full"),
           absl::AbortedError("case r1 kept changing while this was recorded: try again"),
           absl::InternalError("redis: ERR Error running script"),
           absl::UnknownError("?"),
           absl::CancelledError("kafka: shutting down"),
       }) {
    Outcome o = OutcomeOf(s);
    EXPECT_EQ(o.kind, Kind::kRetry) << s;
    EXPECT_THAT(o.reason, ::testing::HasSubstr(std::string(s.message()))) << s;
  }
}

TEST(RetryPolicyTest, AServiceNotYetSetUpForTheMessageWaitsForTheOperator) {
  // A data key this service does not hold yet, a topic or ACL not created, a Redis key of the
  // wrong type: the message itself is fine and succeeds once the operator has fixed it.
  for (const absl::Status& s : {
           absl::FailedPreconditionError("sealed with data key 'k2', which this keyring lacks"),
           absl::NotFoundError("unknown topic (create the Signpost topics)"),
           absl::PermissionDeniedError("topic authorization failed"),
           absl::UnauthenticatedError("SASL authentication failed"),
       }) {
    EXPECT_EQ(OutcomeOf(s).kind, Kind::kRetry) << s;
  }
}

TEST(RetryPolicyTest, EveryCodeHasOneAnswer) {
  for (int c = 1; c <= 16; ++c) {
    auto code = static_cast<absl::StatusCode>(c);
    bool poison = code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kDataLoss;
    EXPECT_EQ(IsPoison(code), poison) << absl::StatusCodeToString(code);
    EXPECT_EQ(OutcomeOf(absl::Status(code, "x")).kind, poison ? Kind::kDeadLetter : Kind::kRetry)
        << absl::StatusCodeToString(code);
  }
}

}  // namespace
}  // namespace signpost::kafka
