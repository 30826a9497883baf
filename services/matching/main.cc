// signpost-matching: keeps the directory cache in Redis from signpost.directory.resources and
// turns each received referral into ranked options per need and an assigned link worker.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <limits>

#include "common/auth/call_authenticator.h"
#include "common/config/address.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/retry_policy.h"
#include "common/kafka/topic_follower.h"
#include "common/kafka/topics.h"
#include "common/metrics/http_endpoint.h"
#include "common/process/service_setup.h"
#include "common/process/shutdown_signal.h"
#include "common/process/worker_pool.h"
#include "common/redis/redis_pool.h"
#include "services/matching/caseload_handler.h"
#include "services/matching/directory_applier.h"
#include "services/matching/directory_cache.h"
#include "services/matching/directory_service.h"
#include "services/matching/matching_handler.h"

namespace signpost::matching {
namespace {

constexpr char kService[] = "signpost-matching";

struct MatchingConfig {
  CommonConfig common;
  std::string postcodes;
  double radius_km = 5.0;
  std::vector<std::string> need_radius_km;
  double transport_barrier_factor = 0.5;
  int top_k = 3;
  int max_assured_age_days = 365;
  bool exclude_stale = false;
  std::string imd_edition = "IoD2025";
  std::vector<int> priority_imd_deciles = {1, 2};
  int workers = 16;
  int queue_limit = 256;
};

// The directory check's consumer options: the followers apply records of any size, so none is set
// aside for its size.
kafka::ConsumerOptions WithoutSizeLimit(kafka::ConsumerOptions options) {
  options.max_record_bytes = std::numeric_limits<size_t>::max();
  return options;
}

int Run(const MatchingConfig& config) {
  std::map<v1::NeedCategory, double> need_radius_km;
  if (absl::Status s = ParseNeedRadii(config.need_radius_km, need_radius_km); !s.ok()) {
    fprintf(stderr, "%s: %s\n", kService, std::string(s.message()).c_str());
    return 2;
  }
  if (absl::Status s = PrepareService(kService, config.common); !s.ok()) {
    fprintf(stderr, "%s: %s\n", kService, std::string(s.message()).c_str());
    return 2;
  }
  auto authenticator = auth::CallAuthenticatorFrom(config.common.auth);
  if (!authenticator.ok()) {
    spdlog::critical("{}", std::string(authenticator.status().message()));
    return 2;
  }
  BlockShutdownSignals();
  const std::string& prefix = config.common.topic_prefix;
  redis::PoolOptions redis_options;
  redis_options.address = *ParseRedisAddress(config.common.redis);
  auto redis = redis::RedisPool::Create(redis_options);
  auto producer = kafka::KafkaProducer::Create(ProducerOptionsFrom(config.common, kService));
  if (!redis.ok() || !producer.ok()) {
    spdlog::critical("start-up: {} {}", redis.status().ToString(), producer.status().ToString());
    return 1;
  }
  DirectoryCache directory(**redis);
  PostcodeLookup postcodes(**redis);
  // Postcodes live in the same cache: loaded whenever the directory is (re)built.
  auto load_postcodes = [&]() -> absl::Status {
    if (config.postcodes.empty()) return absl::OkStatus();
    auto loaded = postcodes.LoadCsv(config.postcodes);
    if (!loaded.ok()) return loaded.status();
    spdlog::info("loaded {} postcodes and districts from {}", *loaded, config.postcodes);
    return absl::OkStatus();
  };
  if (absl::Status s = load_postcodes(); !s.ok()) {
    spdlog::critical("loading postcodes: {}", s.ToString());
    return 1;
  }

  if (auto cleared = directory.ClearUnlessLoaded(); !cleared.ok()) {
    spdlog::critical("checking the directory cache: {}", cleared.status().ToString());
    return 1;
  } else if (*cleared > 0) {
    spdlog::info("cleared {} keys of an incomplete or older directory cache", *cleared);
  }

  // The cache generation the follower's current full read writes under (its thread's alone).
  std::string load_generation;
  kafka::TopicFollower follower(
      {config.common.kafka_bootstrap, kafka::TopicName(kafka::Topic::kDirectoryResources, prefix),
       config.common.kafka_properties},
      [&directory, &load_generation]() -> absl::Status {
        auto generation = directory.BeginLoad();
        if (!generation.ok()) return generation.status();
        load_generation = *std::move(generation);
        return absl::OkStatus();
      },
      [&directory, &load_generation](const kafka::ConsumedMessage& m) {
        absl::Status s = ApplyDirectoryRecord(m, directory, directory, load_generation);
        if (kafka::IsPoison(s.code())) {
          // Group signpost-matching-directory puts it on the dead-letter topic, once.
          spdlog::warn("skipping unreadable directory record {}@{}: {}", m.partition, m.offset,
                       s.ToString());
          return absl::OkStatus();
        }
        return s;
      },
      [&] {
        if (absl::Status s = load_postcodes(); !s.ok()) return s;
        return directory.MarkLoaded(load_generation);
      },
      [&directory] {
        auto loaded = directory.IsLoaded();
        return !loaded.ok() || *loaded;  // unreachable Redis is not a lost cache
      });
  if (absl::Status s = follower.Start(); !s.ok()) {
    spdlog::critical("following the directory topic: {}", s.ToString());
    return 1;
  }

  metrics::Registry registry;
  MatchingOptions options;
  options.topic_prefix = prefix;
  options.producer_name = absl::StrCat(kService, "/", InstanceIdOrDefault(config.common));
  options.policy.default_radius_km = config.radius_km;
  options.policy.radius_km = need_radius_km;
  options.policy.transport_barrier_factor = config.transport_barrier_factor;
  options.policy.top_k = config.top_k;
  options.policy.max_assured_age = absl::Hours(24) * config.max_assured_age_days;
  options.policy.exclude_stale = config.exclude_stale;
  options.policy.imd_edition = config.imd_edition;
  options.policy.priority_imd_deciles = {config.priority_imd_deciles.begin(),
                                         config.priority_imd_deciles.end()};
  MatchingHandler handler(
      options, directory, directory, **producer, registry, [&follower] { return follower.Ready(); },
      [] { return absl::Now(); });

  metrics::HttpEndpoint http(registry, [&]() -> absl::Status {
    if (!follower.Ready()) return absl::UnavailableError("directory cache loading");
    return (*redis)->Ping();
  });
  auto http_port = StartMetricsEndpoint(http, config.common);
  if (!http_port.ok()) {
    spdlog::critical("{}", http_port.status().ToString());
    return 1;
  }

  WorkerPool workers(config.workers, static_cast<size_t>(config.queue_limit));
  DirectoryService directory_service(
      directory, directory, directory, postcodes, **producer,
      kafka::TopicName(kafka::Topic::kDirectoryResources, prefix), options.policy,
      [] { return absl::Now(); }, **authenticator, workers);
  auto grpc_options = GrpcServerOptionsFrom(config.common);
  if (!grpc_options.ok()) {
    spdlog::critical("{}", grpc_options.status().ToString());
    return 2;
  }
  grpc_options->max_receive_message_bytes = 64 * 1024 * 1024;  // Open Referral imports
  auto server = GrpcServer::Start(*grpc_options, {&directory_service});
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return 1;
  }

  CaseloadHandler caseloads(directory, registry);  // outlives the consumer threads below
  auto check_directory = kafka::PerMessage(CheckDirectoryRecord);  // likewise
  ConsumerThreads consumers;
  if (absl::Status s = consumers.Start(
          ConsumerOptionsFor(config.common, kafka::ConsumerGroup::kMatching, &registry), handler,
          **producer, config.common.consumers);
      !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  if (absl::Status s = consumers.Start(
          ConsumerOptionsFor(config.common, kafka::ConsumerGroup::kMatchingCaseloads, &registry),
          caseloads, **producer);
      !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  // Unreadable directory records to the dead-letter topic, once (one member per instance).
  if (absl::Status s =
          consumers.Start(WithoutSizeLimit(ConsumerOptionsFor(
                              config.common, kafka::ConsumerGroup::kMatchingDirectory, &registry)),
                          *check_directory, **producer);
      !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  spdlog::info("{} ready: gRPC {}, metrics on port {}", kService, (*server)->address(), *http_port);

  int signal = WaitForShutdownSignal();
  spdlog::info("signal {}: stopping", signal);
  (*server)->Shutdown(absl::Seconds(5));
  consumers.StopAll();
  follower.Stop();
  (void)(*producer)->Flush(absl::Seconds(10));
  http.Stop();
  return 0;
}

}  // namespace
}  // namespace signpost::matching

int main(int argc, char** argv) {
  signpost::matching::MatchingConfig config;
  CLI::App app("signpost-matching: matches referrals to community resources and link workers");
  signpost::AddCommonOptions(app, config.common);
  app.add_option("--postcodes", config.postcodes,
                 "CSV of postcode,latitude,longitude,lsoa,imd_decile to load into Redis")
      ->envname("SIGNPOST_POSTCODES");
  app.add_option("--imd-edition", config.imd_edition,
                 "The IMD edition of the deciles in --postcodes, recorded with a decile matching "
                 "gives a referral that came without one")
      ->envname("SIGNPOST_IMD_EDITION")
      ->check([](const std::string& v) {
        return v.empty() || v.size() > 20 ? std::string("must be 1 to 20 characters, e.g. IoD2025")
                                          : std::string();
      })
      ->capture_default_str();
  // The same setting as intake's: one variable for both services.
  app.add_option("--priority-imd-deciles", config.priority_imd_deciles,
                 "IMD deciles flagged priority (Core20) when matching derives the decile")
      ->envname("SIGNPOST_PRIORITY_IMD_DECILES")
      ->delimiter(',')
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  app.add_option("--radius-km", config.radius_km, "How far in-person options may be")
      ->envname("SIGNPOST_MATCH_RADIUS_KM")
      ->check(CLI::Range(0.1, 200.0))
      ->capture_default_str();
  app.add_option("--need-radius-km", config.need_radius_km,
                 "Radius for one need, overriding --radius-km: NEED=KM (repeatable), "
                 "e.g. physical_activity=3")
      ->envname("SIGNPOST_MATCH_NEED_RADIUS_KM")
      ->delimiter(',');
  app.add_option("--transport-barrier-factor", config.transport_barrier_factor,
                 "Radius scale for a person with a transport barrier")
      ->check(CLI::Range(0.05, 1.0))
      ->capture_default_str();
  app.add_option("--top-k", config.top_k, "Options per need")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  app.add_option("--max-assured-age-days", config.max_assured_age_days,
                 "Directory entries not assured for longer are stale")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_flag("--exclude-stale", config.exclude_stale, "Exclude stale entries instead of marking");
  app.add_option("--workers", config.workers,
                 "Threads that run directory calls (they wait on Redis and Kafka; gRPC threads "
                 "do not)")
      ->envname("SIGNPOST_MATCHING_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Directory calls that may wait for a worker; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_MATCHING_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return signpost::matching::Run(config);
}
