#include "tests/support/kafka_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/kafka/admin.h"

namespace signpost::testing {

absl::StatusOr<KafkaEnv> MakeKafkaEnv() {
  const char* dir = std::getenv("SIGNPOST_TEST_KAFKA_DIR");
  if (!dir) {
    return absl::FailedPreconditionError(
        "SIGNPOST_TEST_KAFKA_DIR is not set: run integration tests through ctest (tools/test), "
        "which starts the local Kafka");
  }
  std::ifstream in(absl::StrCat(dir, "/bootstrap"));
  std::string bootstrap;
  if (!std::getline(in, bootstrap) || bootstrap.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no bootstrap file in ", dir));
  }
  KafkaEnv env;
  env.bootstrap = std::string(absl::StripAsciiWhitespace(bootstrap));
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? absl::StrCat(info->test_suite_name(), "-", info->name()) : "test";
  for (char& c : name) {
    if (!absl::ascii_isalnum(c) && c != '-') c = '-';
  }
  absl::BitGen gen;
  env.prefix = absl::StrCat("t-", name, "-", absl::Uniform<uint32_t>(gen), ".");
  kafka::TopicAdminOptions admin;
  admin.bootstrap = env.bootstrap;
  admin.prefix = env.prefix;
  if (absl::Status s = kafka::EnsureSignpostTopics(admin); !s.ok()) return s;
  return env;
}

std::string KafkaTool() { return absl::StrCat(SIGNPOST_SOURCE_DIR, "/tools/kafka"); }

}  // namespace signpost::testing
