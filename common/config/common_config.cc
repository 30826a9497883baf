#include "common/config/common_config.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/address.h"

namespace signpost {
namespace {

bool IsSecretProperty(const std::string& key) {
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key.find("key") != std::string::npos || key.find("token") != std::string::npos;
}

// Who the service authenticates to Redis as, and where the password comes from; never the
// password itself.
std::string RedisAuthDescription(const RedisAccessConfig& redis) {
  if (redis.password_file.empty()) return "none";
  return absl::StrCat(
      "user '", redis.username.empty() ? "default" : redis.username, "', password from ",
      redis.password_file, " (***)",
      redis.sentinel_password_file.empty()
          ? ""
          : absl::StrCat("; Sentinel password from ", redis.sentinel_password_file, " (***)"));
}

}  // namespace

void AddCommonOptions(CLI::App& app, CommonConfig& config) {
  app.add_option("--kafka-bootstrap", config.kafka_bootstrap,
                 "Kafka bootstrap servers host:port,...")
      ->envname("SIGNPOST_KAFKA_BOOTSTRAP")
      ->capture_default_str();
  app.add_option("--topic-prefix", config.topic_prefix, "Prefix of every Signpost topic name")
      ->envname("SIGNPOST_TOPIC_PREFIX");
  app.add_option_function<std::vector<std::string>>(
         "--kafka-property",
         [&config](const std::vector<std::string>& values) {
           for (const auto& value : values) {
             for (absl::string_view kv : absl::StrSplit(value, ',', absl::SkipEmpty())) {
               std::pair<std::string, std::string> pair =
                   absl::StrSplit(kv, absl::MaxSplits('=', 1));
               config.kafka_properties[pair.first] = pair.second;
             }
           }
         },
         "Extra librdkafka property key=value (repeatable)")
      ->envname("SIGNPOST_KAFKA_PROPERTIES");
  app.add_option("--redis", config.redis, "Redis host:port or unix:/path")
      ->envname("SIGNPOST_REDIS")
      ->capture_default_str();
  app.add_option("--redis-pool-size", config.redis_pool_size, "Redis connections")
      ->envname("SIGNPOST_REDIS_POOL_SIZE")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  RedisAccessConfig& redis = config.redis_access;
  app.add_option("--redis-username", redis.username,
                 "Redis ACL user to authenticate as (default: the default user)")
      ->envname("SIGNPOST_REDIS_USERNAME");
  app.add_option("--redis-password-file", redis.password_file,
                 "File holding the Redis password (read once at start; never logged)")
      ->envname("SIGNPOST_REDIS_PASSWORD_FILE");
  app.add_option("--redis-sentinels", redis.sentinels,
                 "Redis Sentinels host:port,... that name the primary (then --redis is unused)")
      ->envname("SIGNPOST_REDIS_SENTINELS");
  app.add_option("--redis-master-name", redis.master_name,
                 "The name the Sentinels monitor the primary under")
      ->envname("SIGNPOST_REDIS_MASTER_NAME")
      ->capture_default_str();
  app.add_option("--redis-sentinel-password-file", redis.sentinel_password_file,
                 "File holding the password the Sentinels require, if they require one")
      ->envname("SIGNPOST_REDIS_SENTINEL_PASSWORD_FILE");
  app.add_option("--redis-min-replicas-acked", redis.min_replicas_acked,
                 "Replicas that must acknowledge every call's writes (Redis WAIT); 0: none")
      ->envname("SIGNPOST_REDIS_MIN_REPLICAS_ACKED")
      ->capture_default_str();
  app.add_option("--redis-replica-ack-timeout-ms", redis.replica_ack_timeout_ms,
                 "How long a call waits for the replicas before it fails UNAVAILABLE")
      ->envname("SIGNPOST_REDIS_REPLICA_ACK_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option("--listen", config.listen, "gRPC listen address (port 0 picks a free port)")
      ->envname("SIGNPOST_LISTEN")
      ->capture_default_str();
  app.add_option("--metrics-listen", config.metrics_listen,
                 "HTTP listen address for /metrics, /healthz, /readyz")
      ->envname("SIGNPOST_METRICS_LISTEN")
      ->capture_default_str();
  app.add_option("--port-file", config.port_file, "Write the bound gRPC port to this file")
      ->envname("SIGNPOST_PORT_FILE");
  app.add_option("--metrics-port-file", config.metrics_port_file,
                 "Write the bound metrics port to this file")
      ->envname("SIGNPOST_METRICS_PORT_FILE");
  app.add_option("--log-format", config.log_format, "text or json")
      ->envname("SIGNPOST_LOG_FORMAT")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
      ->envname("SIGNPOST_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--instance-id", config.instance_id, "Name of this instance (default host:pid)")
      ->envname("SIGNPOST_INSTANCE_ID");
  app.add_option("--consumers", config.consumers,
                 "Members of the main consumer group in this process (up to the partitions)")
      ->envname("SIGNPOST_CONSUMERS")
      ->capture_default_str();
  app.add_option("--tls-cert", config.tls.cert, "PEM certificate of the gRPC and HTTP listeners")
      ->envname("SIGNPOST_TLS_CERT");
  app.add_option("--tls-key", config.tls.key, "PEM private key of --tls-cert")
      ->envname("SIGNPOST_TLS_KEY");
  app.add_option("--tls-client-ca", config.tls.client_ca,
                 "Require callers' certificates signed by this CA (mutual TLS)")
      ->envname("SIGNPOST_TLS_CLIENT_CA");
  app.add_option("--tls-ca", config.tls.ca,
                 "CA of the other services' certificates, for the calls this service makes")
      ->envname("SIGNPOST_TLS_CA");
  app.add_flag("--insecure", config.tls.insecure,
               "Plaintext listeners and calls (development only)")
      ->envname("SIGNPOST_INSECURE");
  app.add_option("--token-keys", config.auth.token_keys,
                 "PEM public keys that sign callers' bearer tokens (RS256)")
      ->envname("SIGNPOST_TOKEN_KEYS");
  app.add_option("--token-audience", config.auth.audience, "The audience (aud) tokens must name")
      ->envname("SIGNPOST_TOKEN_AUDIENCE")
      ->capture_default_str();
  app.add_option("--token-issuer", config.auth.issuer, "The issuer (iss) tokens must name")
      ->envname("SIGNPOST_TOKEN_ISSUER");
  app.add_option("--token-leeway-seconds", config.auth.leeway_seconds,
                 "Clock difference allowed when checking tokens' exp and nbf")
      ->envname("SIGNPOST_TOKEN_LEEWAY_SECONDS")
      ->capture_default_str();
  app.add_flag("--no-auth", config.auth.no_auth,
               "Let every call through without a token (development only)")
      ->envname("SIGNPOST_NO_AUTH");
}

absl::Status ValidateCommonConfig(const CommonConfig& config) {
  std::vector<std::string> problems;
  if (auto s = ParseHostPortList(config.kafka_bootstrap); !s.ok()) {
    problems.push_back(absl::StrCat("--kafka-bootstrap: ", s.status().message()));
  }
  if (auto s = ParseRedisAddress(config.redis); !s.ok()) {
    problems.push_back(absl::StrCat("--redis: ", s.status().message()));
  }
  const RedisAccessConfig& redis = config.redis_access;
  if (!redis.sentinels.empty()) {
    if (auto s = ParseHostPortList(redis.sentinels); !s.ok()) {
      problems.push_back(absl::StrCat("--redis-sentinels: ", s.status().message()));
    }
    if (redis.master_name.empty()) problems.push_back("--redis-master-name: empty");
  } else if (!redis.sentinel_password_file.empty()) {
    problems.push_back("--redis-sentinel-password-file: only with --redis-sentinels");
  }
  if (!redis.username.empty() && redis.password_file.empty()) {
    problems.push_back("--redis-username: needs --redis-password-file");
  }
  if (redis.min_replicas_acked < 0 || redis.min_replicas_acked > 16) {
    problems.push_back(
        absl::StrCat("--redis-min-replicas-acked: ", redis.min_replicas_acked, " is not 0 to 16"));
  }
  if (redis.replica_ack_timeout_ms < 1 || redis.replica_ack_timeout_ms > 60000) {
    problems.push_back(absl::StrCat(
        "--redis-replica-ack-timeout-ms: ", redis.replica_ack_timeout_ms, " is not 1 to 60000"));
  }
  if (auto s = ParseHostPort(config.listen, /*allow_port_zero=*/true); !s.ok()) {
    problems.push_back(absl::StrCat("--listen: ", s.status().message()));
  }
  if (auto s = ParseHostPort(config.metrics_listen, /*allow_port_zero=*/true); !s.ok()) {
    problems.push_back(absl::StrCat("--metrics-listen: ", s.status().message()));
  }
  if (config.log_format != "text" && config.log_format != "json") {
    problems.push_back(absl::StrCat("--log-format: '", config.log_format, "' is not text or json"));
  }
  static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), config.log_level) == kLevels.end()) {
    problems.push_back(absl::StrCat("--log-level: '", config.log_level, "' is not one of ",
                                    absl::StrJoin(kLevels, ", ")));
  }
  for (const auto& [key, value] : config.kafka_properties) {
    if (key.empty()) problems.push_back("--kafka-property: a property has no name");
  }
  if (!config.topic_prefix.empty() &&
      config.topic_prefix.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    problems.push_back("--topic-prefix: only letters, digits, '.', '_' and '-' are allowed");
  }
  if (config.consumers < 1 || config.consumers > 64) {
    problems.push_back(absl::StrCat("--consumers: ", config.consumers, " is not 1 to 64"));
  }
  if (config.tls.insecure) {
    if (!config.tls.cert.empty() || !config.tls.client_ca.empty()) {
      problems.push_back("--insecure: not together with --tls-cert or --tls-client-ca");
    }
  } else if (config.tls.cert.empty() || config.tls.key.empty()) {
    problems.push_back(
        "--tls-cert and --tls-key: required (tools/run makes a local CA and certificates), or "
        "--insecure for plaintext in development");
  }
  if (config.auth.no_auth) {
    if (!config.auth.token_keys.empty()) {
      problems.push_back("--no-auth: not together with --token-keys");
    }
  } else if (config.auth.token_keys.empty()) {
    problems.push_back(
        "--token-keys: required (tools/run makes a development signing key), or --no-auth to let "
        "every call through in development");
  }
  if (config.auth.audience.empty()) problems.push_back("--token-audience: empty");
  if (config.auth.leeway_seconds < 0 || config.auth.leeway_seconds > 600) {
    problems.push_back(
        absl::StrCat("--token-leeway-seconds: ", config.auth.leeway_seconds, " is not 0 to 600"));
  }
  for (const auto& [flag, path] :
       {std::pair{"--tls-cert", &config.tls.cert}, std::pair{"--tls-key", &config.tls.key},
        std::pair{"--tls-client-ca", &config.tls.client_ca}, std::pair{"--tls-ca", &config.tls.ca},
        std::pair{"--token-keys", &config.auth.token_keys},
        std::pair{"--redis-password-file", &config.redis_access.password_file},
        std::pair{"--redis-sentinel-password-file", &config.redis_access.sentinel_password_file}}) {
    if (!path->empty() && access(path->c_str(), R_OK) != 0) {
      problems.push_back(absl::StrCat(flag, ": cannot read ", *path));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
}

std::vector<std::pair<std::string, std::string>> DescribeCommonConfig(const CommonConfig& config) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"kafka_bootstrap", config.kafka_bootstrap},
      {"topic_prefix", config.topic_prefix},
      {"redis", config.redis_access.sentinels.empty()
                    ? config.redis
                    : absl::StrCat("the primary of '", config.redis_access.master_name,
                                   "' named by the Sentinels ", config.redis_access.sentinels)},
      {"redis_pool_size", absl::StrCat(config.redis_pool_size)},
      {"redis_auth", RedisAuthDescription(config.redis_access)},
      {"redis_min_replicas_acked", absl::StrCat(config.redis_access.min_replicas_acked, " within ",
                                                config.redis_access.replica_ack_timeout_ms, " ms")},
      {"listen", config.listen},
      {"metrics_listen", config.metrics_listen},
      {"log_format", config.log_format},
      {"log_level", config.log_level},
      {"instance_id", InstanceIdOrDefault(config)},
      {"consumers", absl::StrCat(config.consumers)},
      {"tls",
       config.tls.insecure
           ? "off (--insecure)"
           : absl::StrCat("cert ", config.tls.cert,
                          config.tls.client_ca.empty() ? "" : ", client certificates required")},
      {"auth", config.auth.no_auth ? "off (--no-auth)"
                                   : absl::StrCat("bearer tokens for ", config.auth.audience,
                                                  " signed by ", config.auth.token_keys)},
  };
  for (const auto& [key, value] : config.kafka_properties) {
    out.emplace_back("kafka." + key, IsSecretProperty(key) ? "***" : value);
  }
  return out;
}

std::string InstanceIdOrDefault(const CommonConfig& config) {
  if (!config.instance_id.empty()) return config.instance_id;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", getpid());
}

}  // namespace signpost
