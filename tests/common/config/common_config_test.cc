#include "common/config/common_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace signpost {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

CommonConfig Parse(std::vector<std::string> args) {
  CLI::App app("test");
  CommonConfig config;
  AddCommonOptions(app, config);
  std::vector<const char*> argv = {"test"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return config;
}

TEST(CommonConfigTest, DefaultsAreValidWithInsecureAndNoAuth) {
  CommonConfig config = Parse({"--insecure", "--no-auth"});
  EXPECT_TRUE(ValidateCommonConfig(config).ok());
  EXPECT_EQ(config.kafka_bootstrap, "127.0.0.1:9092");
}

TEST(CommonConfigTest, PlaintextNeedsToBeAskedFor) {
  absl::Status none = ValidateCommonConfig(Parse({}));
  EXPECT_THAT(std::string(none.message()), HasSubstr("--tls-cert and --tls-key: required"));
  EXPECT_THAT(std::string(none.message()), HasSubstr("--insecure"));
  absl::Status both = ValidateCommonConfig(Parse({"--insecure", "--tls-cert", "/etc/hostname"}));
  EXPECT_THAT(std::string(both.message()), HasSubstr("--insecure: not together"));
  absl::Status unreadable = ValidateCommonConfig(
      Parse({"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/etc/hostname"}));
  EXPECT_THAT(std::string(unreadable.message()), HasSubstr("--tls-cert: cannot read"));
  setenv("SIGNPOST_INSECURE", "true", 1);
  CommonConfig from_env = Parse({});
  unsetenv("SIGNPOST_INSECURE");
  EXPECT_TRUE(from_env.tls.insecure);
}

TEST(CommonConfigTest, CallsWithoutTokensNeedToBeAskedFor) {
  absl::Status none = ValidateCommonConfig(Parse({"--insecure"}));
  EXPECT_THAT(std::string(none.message()), HasSubstr("--token-keys: required"));
  EXPECT_THAT(std::string(none.message()), HasSubstr("--no-auth"));
  absl::Status both =
      ValidateCommonConfig(Parse({"--insecure", "--no-auth", "--token-keys", "/etc/hostname"}));
  EXPECT_THAT(std::string(both.message()), HasSubstr("--no-auth: not together"));
  absl::Status unreadable =
      ValidateCommonConfig(Parse({"--insecure", "--token-keys", "/nonexistent/keys.pem"}));
  EXPECT_THAT(std::string(unreadable.message()), HasSubstr("--token-keys: cannot read"));
  absl::Status leeway =
      ValidateCommonConfig(Parse({"--insecure", "--no-auth", "--token-leeway-seconds", "-1"}));
  EXPECT_THAT(std::string(leeway.message()), HasSubstr("--token-leeway-seconds: -1"));
  CommonConfig with_keys = Parse({"--insecure", "--token-keys", "/etc/hostname"});
  EXPECT_TRUE(ValidateCommonConfig(with_keys).ok());
  EXPECT_EQ(with_keys.auth.audience, "signpost");
  setenv("SIGNPOST_NO_AUTH", "true", 1);
  CommonConfig from_env = Parse({});
  unsetenv("SIGNPOST_NO_AUTH");
  EXPECT_TRUE(from_env.auth.no_auth);
}

TEST(CommonConfigTest, EnvironmentSetsAndFlagsWin) {
  setenv("SIGNPOST_KAFKA_BOOTSTRAP", "broker-a:9093,broker-b:9093", 1);
  setenv("SIGNPOST_REDIS", "unix:/tmp/r.sock", 1);
  setenv("SIGNPOST_TOPIC_PREFIX", "staging.", 1);
  CommonConfig config = Parse({"--redis", "redis-host:6379", "--insecure", "--no-auth"});
  unsetenv("SIGNPOST_KAFKA_BOOTSTRAP");
  unsetenv("SIGNPOST_REDIS");
  unsetenv("SIGNPOST_TOPIC_PREFIX");
  EXPECT_EQ(config.kafka_bootstrap, "broker-a:9093,broker-b:9093");
  EXPECT_EQ(config.redis, "redis-host:6379");
  EXPECT_EQ(config.topic_prefix, "staging.");
  EXPECT_TRUE(ValidateCommonConfig(config).ok());
}

TEST(CommonConfigTest, ReportsEveryProblemWithItsFlag) {
  CommonConfig config = Parse({"--kafka-bootstrap", "nohostport", "--redis", "x", "--log-format",
                               "xml", "--listen", "0.0.0.0:99999", "--topic-prefix", "a b"});
  absl::Status status = ValidateCommonConfig(config);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--kafka-bootstrap"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--redis"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--log-format: 'xml'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--listen"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--topic-prefix"));
}

TEST(CommonConfigTest, KafkaPropertiesAreParsedAndSecretsMasked) {
  CommonConfig config =
      Parse({"--kafka-property", "security.protocol=SASL_SSL,sasl.password=hunter2",
             "--kafka-property", "sasl.username=signpost"});
  EXPECT_EQ(config.kafka_properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(config.kafka_properties.at("sasl.password"), "hunter2");
  auto described = DescribeCommonConfig(config);
  EXPECT_THAT(described, Contains(Pair("kafka.sasl.password", "***")));
  EXPECT_THAT(described, Contains(Pair("kafka.sasl.username", "signpost")));
  for (const auto& [name, value] : described) EXPECT_NE(value, "hunter2") << name;
}

}  // namespace
}  // namespace signpost
