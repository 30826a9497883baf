#include "common/auth/call_authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::auth {
namespace {

using ::testing::HasSubstr;

TEST(RequireRoleTest, OnlyTheNamedRolesPassAndTheMessageNamesRoleAndCallOnly) {
  Principal ops{Role::kOps, "ops", {}, ""};
  EXPECT_TRUE(RequireRole(ops, {Role::kOps}, "OpsService/GetFlowSnapshot").ok());
  absl::Status denied = RequireRole(ops, {Role::kReferrer}, "IntakeService/SubmitReferral");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "the ops role may not call IntakeService/SubmitReferral");
  EXPECT_TRUE(
      RequireRole(DevelopmentCaller(), {Role::kReferrer}, "IntakeService/SubmitReferral").ok());
  // Nobody in particular is allowed nothing.
  EXPECT_EQ(RequireRole(Principal{}, {Role::kReferrer, Role::kOps}, "OpsService/WatchFlows").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(QueueOwnerTest, ATeamQueueIsItsCoordinatorsAndAnyOtherItsLinkWorkers) {
  Principal team = QueueOwner("team:pcn-7", "ignored", "coordinator-7");
  EXPECT_EQ(team.role, Role::kCoordinator);
  EXPECT_EQ(team.network, "pcn-7");
  EXPECT_EQ(team.subject, "coordinator-7");
  Principal worker = QueueOwner("lw-3", "pcn-7");
  EXPECT_EQ(worker.role, Role::kLinkWorker);
  EXPECT_EQ(worker.subject, "lw-3");
  EXPECT_EQ(worker.network, "pcn-7");
}

TEST(CallAuthenticatorFromTest, NeedsReadableKeysUnlessAuthIsOff) {
  AuthConfig off;
  off.no_auth = true;
  auto open = CallAuthenticatorFrom(off);
  ASSERT_TRUE(open.ok());
  EXPECT_FALSE((*open)->enabled());
  AuthConfig missing;
  missing.token_keys = "/nonexistent/keys.pem";
  auto refused = CallAuthenticatorFrom(missing);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--token-keys"));
}

}  // namespace
}  // namespace signpost::auth
