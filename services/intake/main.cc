// signpost-intake: accepts referrals over gRPC and from signpost.referral.submitted, validates,
// de-duplicates and publishes them; serves their status.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "absl/strings/str_split.h"
#include "common/auth/call_authenticator.h"
#include "common/config/address.h"
#include "common/crypto/data_keyring.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/admin.h"
#include "common/kafka/topics.h"
#include "common/metrics/http_endpoint.h"
#include "common/process/offset_clock.h"
#include "common/process/service_setup.h"
#include "common/process/shutdown_signal.h"
#include "common/process/worker_pool.h"
#include "common/redis/redis_pool.h"
#include "services/intake/intake_service.h"
#include "services/intake/redis_status_store.h"
#include "services/intake/redis_submission_store.h"
#include "services/intake/status_events_handler.h"
#include "services/intake/submissions_handler.h"

namespace signpost::intake {
namespace {

constexpr char kService[] = "signpost-intake";

struct IntakeConfig {
  CommonConfig common;
  std::string data_keys;  // the keyring that seals and opens personal details
  std::vector<int> priority_imd_deciles = {1, 2};
  std::vector<std::string> priority_groups = {"carer",
                                              "veteran",
                                              "ethnic_minority",
                                              "experiencing_homelessness",
                                              "gypsy_roma_traveller",
                                              "vulnerable_migrant",
                                              "learning_disability_or_autism"};
  int delivery_timeout_ms = 10000;
  int dedup_retention_days = 400;
  bool create_topics = false;
  int redis_pool_size = 8;
  int linger_ms = 5;
  int workers = 16;
  int queue_limit = 256;
  std::string clock_offset_file;
};

absl::StatusOr<PriorityPolicy> PolicyFrom(const IntakeConfig& config) {
  PriorityPolicy policy;
  policy.deprived_imd_deciles = {config.priority_imd_deciles.begin(),
                                 config.priority_imd_deciles.end()};
  policy.plus_groups.clear();
  for (const auto& name : config.priority_groups) {
    std::string upper = "INCLUSION_GROUP_";
    for (char c : name) upper.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    v1::InclusionGroup group;
    if (!v1::InclusionGroup_Parse(upper, &group) || group == v1::INCLUSION_GROUP_UNSPECIFIED) {
      return absl::InvalidArgumentError("--priority-groups: unknown group '" + name + "'");
    }
    policy.plus_groups.insert(group);
  }
  for (int decile : config.priority_imd_deciles) {
    if (decile < 1 || decile > 10) {
      return absl::InvalidArgumentError("--priority-imd-deciles: deciles are 1 to 10");
    }
  }
  return policy;
}

int Run(const IntakeConfig& config) {
  if (absl::Status s = PrepareService(kService, config.common); !s.ok()) {
    fprintf(stderr, "%s: %s\n", kService, std::string(s.message()).c_str());
    return 2;
  }
  auto policy = PolicyFrom(config);
  if (!policy.ok()) {
    spdlog::critical("{}", policy.status().ToString());
    return 2;
  }
  auto data_keys = crypto::LoadServiceDataKeys(config.data_keys);
  if (!data_keys.ok()) {
    spdlog::critical("{}", std::string(data_keys.status().message()));
    return 2;
  }
  crypto::PersonalDetailsCipher cipher(*data_keys);
  auto authenticator = auth::CallAuthenticatorFrom(config.common.auth);
  if (!authenticator.ok()) {
    spdlog::critical("{}", std::string(authenticator.status().message()));
    return 2;
  }
  BlockShutdownSignals();
  const std::string& prefix = config.common.topic_prefix;

  if (config.create_topics) {
    kafka::TopicAdminOptions admin;
    admin.bootstrap = config.common.kafka_bootstrap;
    admin.prefix = prefix;
    admin.properties = config.common.kafka_properties;
    if (absl::Status s = kafka::EnsureSignpostTopics(admin); !s.ok()) {
      spdlog::critical("creating topics: {}", s.ToString());
      return 1;
    }
  }

  redis::PoolOptions redis_options;
  redis_options.address = *ParseRedisAddress(config.common.redis);
  redis_options.size = config.redis_pool_size;
  auto redis = redis::RedisPool::Create(redis_options);
  if (!redis.ok()) {
    spdlog::critical("{}", redis.status().ToString());
    return 1;
  }
  auto producer_options = ProducerOptionsFrom(config.common, kService);
  producer_options.delivery_timeout = absl::Milliseconds(config.delivery_timeout_ms);
  producer_options.linger = absl::Milliseconds(config.linger_ms);
  auto producer = kafka::KafkaProducer::Create(producer_options);
  if (!producer.ok()) {
    spdlog::critical("{}", producer.status().ToString());
    return 1;
  }

  metrics::Registry registry;
  RedisSubmissionStore submissions(**redis, absl::Hours(24) * config.dedup_retention_days);
  RedisStatusStore statuses(**redis);
  SubmitterOptions options;
  options.topic_prefix = prefix;
  options.producer_name = absl::StrCat(kService, "/", InstanceIdOrDefault(config.common));
  options.priority = *policy;
  options.lease = absl::Milliseconds(config.delivery_timeout_ms) * 3;
  options.in_progress_wait = options.lease + absl::Seconds(5);
  options.dedup_retention = absl::Hours(24) * config.dedup_retention_days;
  options.max_waiting = static_cast<size_t>(config.queue_limit);
  OffsetClock clock(config.clock_offset_file);
  if (!config.clock_offset_file.empty()) {
    spdlog::warn("clock shifted by the seconds in {}", config.clock_offset_file);
  }
  Submitter submitter(options, submissions, statuses, **producer, cipher, registry,
                      [&clock] { return clock.Now(); });

  WorkerPool workers(config.workers, static_cast<size_t>(config.queue_limit));
  IntakeService service(submitter, workers, **authenticator);
  auto grpc_options = GrpcServerOptionsFrom(config.common);
  if (!grpc_options.ok()) {
    spdlog::critical("{}", grpc_options.status().ToString());
    return 2;
  }
  auto server = GrpcServer::Start(*grpc_options, {&service});
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return 1;
  }

  metrics::HttpEndpoint http(registry, [&redis]() { return (*redis)->Ping(); });
  auto http_port = StartMetricsEndpoint(http, config.common);
  if (!http_port.ok()) {
    spdlog::critical("{}", http_port.status().ToString());
    return 1;
  }
  spdlog::info("metrics on http://{}:{}/metrics",
               ParseHostPort(config.common.metrics_listen, true)->host, *http_port);

  SubmissionsHandler submissions_handler(submitter);
  StatusEventsHandler status_handler(statuses);
  ConsumerThreads consumers;
  absl::Status submitted = consumers.Start(
      ConsumerOptionsFor(config.common, kafka::ConsumerGroup::kIntakeSubmissions, &registry),
      submissions_handler, **producer, config.common.consumers);
  absl::Status lifecycle = consumers.Start(
      ConsumerOptionsFor(config.common, kafka::ConsumerGroup::kIntakeStatus, &registry),
      status_handler, **producer);
  if (!submitted.ok() || !lifecycle.ok()) {
    spdlog::critical("kafka consumers: {} {}", submitted.ToString(), lifecycle.ToString());
    return 1;
  }
  spdlog::info("{} ready: gRPC {}", kService, (*server)->address());

  int signal = WaitForShutdownSignal();
  spdlog::info("signal {}: draining", signal);
  submitter.StopWaiting();  // a duplicate waiting on another attempt retries elsewhere
  (*server)->Shutdown(absl::Seconds(10));  // calls in flight get their acknowledgement
  consumers.StopAll();
  (void)(*producer)->Flush(absl::Seconds(10));
  http.Stop();
  spdlog::info("{} stopped", kService);
  return 0;
}

}  // namespace
}  // namespace signpost::intake

int main(int argc, char** argv) {
  signpost::intake::IntakeConfig config;
  CLI::App app("signpost-intake: accepts social prescribing referrals");
  signpost::AddCommonOptions(app, config.common);
  app.add_option("--data-keys", config.data_keys,
                 "Keyring file that seals and opens personal details on the bus")
      ->envname("SIGNPOST_DATA_KEYS");
  app.add_option("--priority-imd-deciles", config.priority_imd_deciles,
                 "IMD deciles flagged priority (Core20)")
      ->envname("SIGNPOST_PRIORITY_IMD_DECILES")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--priority-groups", config.priority_groups,
                 "PLUS groups flagged priority (carer, veteran, ethnic_minority, ...)")
      ->envname("SIGNPOST_PRIORITY_GROUPS")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--delivery-timeout-ms", config.delivery_timeout_ms,
                 "How long a submission waits for the broker before UNAVAILABLE")
      ->envname("SIGNPOST_DELIVERY_TIMEOUT_MS")
      ->check(CLI::Range(100, 300000))
      ->capture_default_str();
  app.add_option("--dedup-retention-days", config.dedup_retention_days,
                 "How long a submission is remembered for de-duplication")
      ->envname("SIGNPOST_DEDUP_RETENTION_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--kafka-linger-ms", config.linger_ms,
                 "How long the producer gathers a batch (latency for throughput)")
      ->envname("SIGNPOST_KAFKA_LINGER_MS")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--workers", config.workers,
                 "Threads that run requests (they wait on Redis and Kafka, gRPC threads do not)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Calls that may wait for a worker, and (apart) submissions that may wait on "
                 "another attempt publishing the same one; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_INTAKE_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--clock-offset-file", config.clock_offset_file,
                 "Shift the clock by the seconds written in this file (drills, tests)")
      ->envname("SIGNPOST_CLOCK_OFFSET_FILE");
  app.add_option("--redis-pool-size", config.redis_pool_size, "Redis connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_flag("--create-topics", config.create_topics,
               "Create the Signpost topics at start (development clusters)")
      ->envname("SIGNPOST_CREATE_TOPICS");
  CLI11_PARSE(app, argc, argv);
  return signpost::intake::Run(config);
}
