#include "services/matching/directory_access.h"

#include <gtest/gtest.h>

#include "tests/support/test_tokens.h"

namespace signpost::matching {
namespace {

using ::signpost::testing::Coordinator;
using ::signpost::testing::DirectoryAdmin;
using ::signpost::testing::LinkWorker;
using ::signpost::testing::Ops;
using ::signpost::testing::Referrer;

bool Allowed(const auth::Principal& who, DirectoryRpc rpc) {
  absl::Status s = CanCallDirectory(who, rpc);
  if (!s.ok()) EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  return s.ok();
}

TEST(DirectoryAccessTest, OnlyDirectoryAdminsWriteTheDirectory) {
  for (DirectoryRpc write :
       {DirectoryRpc::kUpsertResource, DirectoryRpc::kRemoveResource, DirectoryRpc::kUpdateCapacity,
        DirectoryRpc::kImportOpenReferral, DirectoryRpc::kImportOpenReferralStream,
        DirectoryRpc::kUpsertLinkWorker, DirectoryRpc::kUpsertNetwork}) {
    EXPECT_TRUE(Allowed(DirectoryAdmin(), write));
    EXPECT_FALSE(Allowed(LinkWorker("lw-1", "n"), write));
    EXPECT_FALSE(Allowed(Coordinator("n"), write));
    EXPECT_FALSE(Allowed(Referrer({"A81001"}), write));
    EXPECT_FALSE(Allowed(Ops(), write));
  }
}

TEST(DirectoryAccessTest, EveryRoleReadsItAndCaseWorkersTakePlaces) {
  for (const auth::Principal& who :
       {DirectoryAdmin(), LinkWorker("lw-1", "n"), Coordinator("n"), Referrer({"A81001"}), Ops()}) {
    EXPECT_TRUE(Allowed(who, DirectoryRpc::kSearchResources));
    EXPECT_TRUE(Allowed(who, DirectoryRpc::kGetResource));
  }
  EXPECT_TRUE(Allowed(LinkWorker("lw-1", "n"), DirectoryRpc::kReservePlace));
  EXPECT_TRUE(Allowed(Coordinator("n"), DirectoryRpc::kReservePlace));
  EXPECT_FALSE(Allowed(Referrer({"A81001"}), DirectoryRpc::kReservePlace));
  EXPECT_FALSE(Allowed(Ops(), DirectoryRpc::kReservePlace));
}

// Places are taken only for the caller's own case and at the options matching offered it: a
// link worker's own referral, a team-queue referral of the coordinator's own network (issue 22,
// item 10).
TEST(DirectoryAccessTest, PlacesAreTakenOnlyForTheCallersOwnCasesAtTheirOptions) {
  v1::ReferralMatched matched;
  matched.set_network_id("n");
  matched.add_needs()->add_options()->set_resource_id("walk");
  matched.add_needs()->add_options()->set_resource_id("debt-advice");
  auto code = [](const absl::Status& s) { return s.code(); };
  constexpr auto kOk = absl::StatusCode::kOk;
  constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
  const std::optional<std::string> lw1 = std::string("lw-1"), team = std::string("");
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), lw1, &matched, "walk")), kOk);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), lw1, &matched, "debt-advice")), kOk);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), lw1, &matched, "gym")), kDenied);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), lw1, nullptr, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), std::string("lw-2"), &matched, "walk")),
            kDenied);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), std::nullopt, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(LinkWorker("lw-1", "n"), team, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(Coordinator("n"), team, &matched, "walk")), kOk);
  EXPECT_EQ(code(CanReserveFor(Coordinator("n"), team, &matched, "gym")), kDenied);
  EXPECT_EQ(code(CanReserveFor(Coordinator("other"), team, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(Coordinator("n"), lw1, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(Coordinator("n"), std::nullopt, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(Ops(), team, &matched, "walk")), kDenied);
  EXPECT_EQ(code(CanReserveFor(auth::DevelopmentCaller(), std::nullopt, nullptr, "gym")), kOk);
}

}  // namespace
}  // namespace signpost::matching
