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

TEST(CommonConfigTest, RedisAccessSettingsComeFromFlagsAndEnvironment) {
  setenv("SIGNPOST_REDIS_USERNAME", "signpost", 1);
  setenv("SIGNPOST_REDIS_PASSWORD_FILE", "/etc/hostname", 1);
  setenv("SIGNPOST_REDIS_SENTINELS", "s1:26379,s2:26379,s3:26379", 1);
  setenv("SIGNPOST_REDIS_MIN_REPLICAS_ACKED", "1", 1);
  CommonConfig config = Parse({"--insecure", "--no-auth", "--redis-master-name", "signpost-eu",
                               "--redis-sentinel-password-file", "/etc/hostname",
                               "--redis-replica-ack-timeout-ms", "250"});
  unsetenv("SIGNPOST_REDIS_USERNAME");
  unsetenv("SIGNPOST_REDIS_PASSWORD_FILE");
  unsetenv("SIGNPOST_REDIS_SENTINELS");
  unsetenv("SIGNPOST_REDIS_MIN_REPLICAS_ACKED");
  const RedisAccessConfig& redis = config.redis_access;
  EXPECT_EQ(redis.username, "signpost");
  EXPECT_EQ(redis.password_file, "/etc/hostname");
  EXPECT_EQ(redis.sentinels, "s1:26379,s2:26379,s3:26379");
  EXPECT_EQ(redis.master_name, "signpost-eu");
  EXPECT_EQ(redis.sentinel_password_file, "/etc/hostname");
  EXPECT_EQ(redis.min_replicas_acked, 1);
  EXPECT_EQ(redis.replica_ack_timeout_ms, 250);
  EXPECT_TRUE(ValidateCommonConfig(config).ok()) << ValidateCommonConfig(config);
  auto described = DescribeCommonConfig(config);
  EXPECT_THAT(described,
              Contains(Pair("redis", HasSubstr("'signpost-eu' named by the Sentinels s1:26379"))));
  EXPECT_THAT(described, Contains(Pair("redis_auth", HasSubstr("user 'signpost'"))));
  EXPECT_THAT(described, Contains(Pair("redis_min_replicas_acked", "1 within 250 ms")));

  CommonConfig defaults = Parse({"--insecure", "--no-auth"});
  EXPECT_EQ(defaults.redis_access.master_name, "signpost");
  EXPECT_EQ(defaults.redis_access.min_replicas_acked, 0);
  EXPECT_EQ(defaults.redis_access.replica_ack_timeout_ms, 1000);
  EXPECT_THAT(DescribeCommonConfig(defaults), Contains(Pair("redis_auth", "none")));
}

TEST(CommonConfigTest, RedisAccessProblemsNameTheirFlags) {
  absl::Status status = ValidateCommonConfig(Parse(
      {"--insecure", "--no-auth", "--redis-username", "signpost", "--redis-sentinels", "nohostport",
       "--redis-min-replicas-acked", "-1", "--redis-replica-ack-timeout-ms", "0"}));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--redis-username: needs --redis-password-file"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--redis-sentinels"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--redis-min-replicas-acked: -1"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("--redis-replica-ack-timeout-ms: 0"));
  absl::Status unreadable = ValidateCommonConfig(
      Parse({"--insecure", "--no-auth", "--redis-password-file", "/nonexistent/redis-password"}));
  EXPECT_THAT(std::string(unreadable.message()), HasSubstr("--redis-password-file: cannot read"));
  absl::Status without_sentinels = ValidateCommonConfig(
      Parse({"--insecure", "--no-auth", "--redis-sentinel-password-file", "/etc/hostname"}));
  EXPECT_THAT(std::string(without_sentinels.message()),
              HasSubstr("--redis-sentinel-password-file: only with --redis-sentinels"));
}

}  // namespace
}  // namespace signpost
