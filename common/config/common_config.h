#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace signpost {

// TLS: every listener serves it unless `insecure` (development only) says plaintext.
struct TlsConfig {
  std::string cert;       // PEM certificate (chain) of this process
  std::string key;        // PEM private key
  std::string client_ca;  // when set, callers must present a certificate it signed (mutual TLS)
  std::string ca;         // the CA that signed the other services' certificates, for our calls
  bool insecure = false;  // plaintext listeners and calls
};

// Bearer tokens: every gRPC call carries a JWT signed by a key in `token_keys`, unless `no_auth`
// (development only) lets every call through.
struct AuthConfig {
  std::string token_keys;             // PEM public keys of the token issuer(s)
  std::string audience = "signpost";  // the aud every token must carry
  std::string issuer;                 // the iss every token must carry, when set
  int leeway_seconds = 60;            // allowed clock difference with the issuer
  bool no_auth = false;
};

// How a service reaches Redis beyond its address: who it authenticates as, the Sentinels that
// name the primary, and how many replicas must hold a write before a call succeeds.
struct RedisAccessConfig {
  std::string username;       // an ACL user; empty: the default user (password only)
  std::string password_file;  // read once at start; empty: no AUTH
  // host:port,... of the Sentinels; when set they name the primary and --redis is not used.
  std::string sentinels;
  std::string master_name = "signpost";
  std::string sentinel_password_file;  // what the Sentinels themselves require, if anything
  int min_replicas_acked = 0;          // WAIT for this many replicas after every call
  int replica_ack_timeout_ms = 1000;
};

// Settings every Signpost process shares. Each is a flag and an environment variable
// (flags win); see AddCommonOptions for the names.
struct CommonConfig {
  std::string kafka_bootstrap = "127.0.0.1:9092";
  std::string topic_prefix;
  // Extra librdkafka properties (security.protocol, sasl.*, ...): a production cluster is one
  // setting away. Values may be secrets and are never logged.
  std::map<std::string, std::string> kafka_properties;
  std::string redis = "127.0.0.1:6379";
  // Connections of the service's Redis pool: one setting for every service. Enough for every
  // worker (16 by default) to have one while the consumers and background tasks have theirs: with
  // fewer, workers queue for connections under load and intake refuses calls at capacity that it
  // could take (issue 26: 8 connections refused up to 1,092 of 20,000 calls at 1,000/s; 24, none).
  int redis_pool_size = 24;
  RedisAccessConfig redis_access;
  std::string listen = "127.0.0.1:0";
  std::string metrics_listen = "127.0.0.1:0";
  std::string port_file;          // the bound gRPC port is written here when set
  std::string metrics_port_file;  // the bound metrics port is written here when set
  std::string log_format = "text";
  std::string log_level = "info";
  std::string instance_id;  // defaults to hostname:pid
  // Members of the service's main consumer group run by this process. A group's partitions are
  // shared among all its members (in this and other processes): members wait on Redis and the
  // broker in parallel, up to the topic's partition count.
  int consumers = 2;
  // Transport security of the gRPC and HTTP listeners and of the calls this process makes.
  TlsConfig tls;
  // Who may call: bearer tokens checked on every gRPC call.
  AuthConfig auth;
};

// Registers the shared flags with their environment variables on `app`:
//   --kafka-bootstrap   SIGNPOST_KAFKA_BOOTSTRAP      --topic-prefix   SIGNPOST_TOPIC_PREFIX
//   --kafka-property    SIGNPOST_KAFKA_PROPERTIES (k=v,k=v)
//   --redis             SIGNPOST_REDIS                --listen         SIGNPOST_LISTEN
//   --redis-pool-size   SIGNPOST_REDIS_POOL_SIZE
//   --redis-username SIGNPOST_REDIS_USERNAME  --redis-password-file SIGNPOST_REDIS_PASSWORD_FILE
//   --redis-sentinels SIGNPOST_REDIS_SENTINELS  --redis-master-name SIGNPOST_REDIS_MASTER_NAME
//   --redis-sentinel-password-file SIGNPOST_REDIS_SENTINEL_PASSWORD_FILE
//   --redis-min-replicas-acked SIGNPOST_REDIS_MIN_REPLICAS_ACKED
//   --redis-replica-ack-timeout-ms SIGNPOST_REDIS_REPLICA_ACK_TIMEOUT_MS
//   --metrics-listen    SIGNPOST_METRICS_LISTEN       --port-file      SIGNPOST_PORT_FILE
//   --metrics-port-file SIGNPOST_METRICS_PORT_FILE    --log-format     SIGNPOST_LOG_FORMAT
//   --log-level         SIGNPOST_LOG_LEVEL            --instance-id    SIGNPOST_INSTANCE_ID
//   --consumers         SIGNPOST_CONSUMERS
//   --tls-cert SIGNPOST_TLS_CERT  --tls-key SIGNPOST_TLS_KEY  --tls-client-ca
//   SIGNPOST_TLS_CLIENT_CA
//   --tls-ca SIGNPOST_TLS_CA      --insecure SIGNPOST_INSECURE
//   --token-keys SIGNPOST_TOKEN_KEYS  --token-audience SIGNPOST_TOKEN_AUDIENCE
//   --token-issuer SIGNPOST_TOKEN_ISSUER  --token-leeway-seconds SIGNPOST_TOKEN_LEEWAY_SECONDS
//   --no-auth SIGNPOST_NO_AUTH
void AddCommonOptions(CLI::App& app, CommonConfig& config);

// Checks every setting and reports all that are wrong in one message.
absl::Status ValidateCommonConfig(const CommonConfig& config);

// The effective settings as name/value pairs for the start-up log; secrets are masked.
std::vector<std::pair<std::string, std::string>> DescribeCommonConfig(const CommonConfig& config);

// hostname:pid unless set.
std::string InstanceIdOrDefault(const CommonConfig& config);

}  // namespace signpost
