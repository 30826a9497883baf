#include "common/config/secret_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace signpost {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path =
      (std::filesystem::temp_directory_path() / absl::StrCat("secret-", getpid(), "-", name))
          .string();
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(SecretFileTest, ReadsTheSecretWithoutItsLineBreak) {
  EXPECT_EQ(*ReadSecretFile(WriteFile("a", "s3cret pass\n"), "--x"), "s3cret pass");
  EXPECT_EQ(*ReadSecretFile(WriteFile("b", "s3cret\r\n"), "--x"), "s3cret");
  EXPECT_EQ(*ReadSecretFile(WriteFile("c", "no-newline"), "--x"), "no-newline");
}

TEST(SecretFileTest, MissingOrEmptyIsAnErrorNamingTheFlag) {
  auto missing = ReadSecretFile("/nonexistent/password", "--redis-password-file");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("--redis-password-file: cannot read /nonexistent/password"));
  auto empty = ReadSecretFile(WriteFile("d", "\n"), "--redis-password-file");
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("is empty"));
}

}  // namespace
}  // namespace signpost
