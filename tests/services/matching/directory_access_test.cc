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

TEST(DirectoryAccessTest, PlacesAreTakenOnlyForTheCallersOwnCases) {
  EXPECT_TRUE(CanReserveFor(LinkWorker("lw-1", "n"), std::string("lw-1")).ok());
  EXPECT_EQ(CanReserveFor(LinkWorker("lw-1", "n"), std::string("lw-2")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CanReserveFor(LinkWorker("lw-1", "n"), std::nullopt).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CanReserveFor(LinkWorker("lw-1", "n"), std::string("")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CanReserveFor(Coordinator("n"), std::string("")).ok());
  EXPECT_EQ(CanReserveFor(Coordinator("n"), std::string("lw-1")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CanReserveFor(auth::DevelopmentCaller(), std::nullopt).ok());
}

}  // namespace
}  // namespace signpost::matching
