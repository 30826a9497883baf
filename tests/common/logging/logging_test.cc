#include "common/logging/logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace signpost {
namespace {

TEST(LoggingTest, JsonLinesEscapeTheMessage) {
  ASSERT_TRUE(InitLogging("signpost-test", "json", "info").ok());
  ::testing::internal::CaptureStderr();
  spdlog::info("referral {} has \"quotes\" and a\nnewline", "r-1");
  spdlog::debug("below the level");
  spdlog::default_logger()->flush();
  std::string out = ::testing::internal::GetCapturedStderr();
  std::istringstream lines(out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["service"], "signpost-test");
  EXPECT_EQ(json["level"], "info");
  EXPECT_EQ(json["msg"], "referral r-1 has \"quotes\" and a\nnewline");
  EXPECT_FALSE(std::getline(lines, line)) << "debug line leaked: " << line;
}

TEST(LoggingTest, RejectsUnknownFormatAndLevel) {
  EXPECT_EQ(InitLogging("s", "xml", "info").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InitLogging("s", "text", "loud").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(InitLogging("s", "text", "warn").ok());
}

}  // namespace
}  // namespace signpost
