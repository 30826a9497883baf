// signpost-followup: the case after matching — link workers' task queues, durable timers,
// outcomes, and the messages back to the referrer.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/call_authenticator.h"
#include "common/config/address.h"
#include "common/crypto/data_keyring.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/tls_credentials.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/metrics/http_endpoint.h"
#include "common/process/service_setup.h"
#include "common/process/shutdown_signal.h"
#include "common/process/worker_pool.h"
#include "common/redis/redis_pool.h"
#include "services/followup/case_commands.h"
#include "services/followup/followup_handler.h"
#include "services/followup/followup_service.h"
#include "services/followup/offset_clock.h"
#include "services/followup/outbox_publisher.h"
#include "services/followup/redis_case_store.h"
#include "services/followup/task_feed.h"
#include "services/followup/timer_scheduler.h"

namespace signpost::followup {
namespace {

constexpr char kService[] = "signpost-followup";

struct FollowUpConfig {
  CommonConfig common;
  std::string data_keys;  // the keyring that seals and opens personal details
  std::string directory;
  int first_contact_working_days = 3;
  int priority_first_contact_working_days = 1;
  double at_risk_fraction = 0.66;
  std::vector<int> check_in_days = {14, 42};
  int check_in_working_days = 5;
  std::vector<std::string> holidays;
  std::string time_zone = "Europe/London";
  int scheduler_interval_ms = 1000;
  std::string clock_offset_file;
  std::string redis_key_prefix = "fu:";
  int feed_max_length = 10000;
  int workers = 16;
  int queue_limit = 256;
};

absl::StatusOr<WorkflowOptions> WorkflowOptionsFrom(const FollowUpConfig& config) {
  WorkflowOptions options;
  options.producer = absl::StrCat(kService, "/", InstanceIdOrDefault(config.common));
  DeadlinePolicy& d = options.deadlines;
  d.first_contact_working_days = config.first_contact_working_days;
  d.priority_first_contact_working_days = config.priority_first_contact_working_days;
  d.at_risk_fraction = config.at_risk_fraction;
  d.check_ins.clear();
  for (int days : config.check_in_days) d.check_ins.push_back(absl::Hours(24) * days);
  auto holidays = ParseHolidays(config.holidays);
  if (!holidays.ok()) return holidays.status();
  d.holidays = *std::move(holidays);
  if (!absl::LoadTimeZone(config.time_zone, &d.zone)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time zone '", config.time_zone, "' is unknown (is the tzdata package installed?)"));
  }
  options.check_in_working_days = config.check_in_working_days;
  return options;
}

int Run(const FollowUpConfig& config) {
  auto workflow_options = WorkflowOptionsFrom(config);
  if (!workflow_options.ok()) {
    fprintf(stderr, "%s: %s\n", kService, std::string(workflow_options.status().message()).c_str());
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
  auto data_keys = crypto::LoadServiceDataKeys(config.data_keys);
  if (!data_keys.ok()) {
    spdlog::critical("{}", std::string(data_keys.status().message()));
    return 2;
  }
  crypto::PersonalDetailsCipher cipher(*data_keys);
  BlockShutdownSignals();
  const std::string& prefix = config.common.topic_prefix;
  const std::string instance = InstanceIdOrDefault(config.common);
  redis::PoolOptions redis_options;
  redis_options.address = *ParseRedisAddress(config.common.redis);
  redis_options.size = 8;
  auto redis = redis::RedisPool::Create(redis_options);
  redis_options.size = 1;  // the task feed's blocking reads have a connection of their own
  auto feed_redis = redis::RedisPool::Create(redis_options);
  const kafka::ProducerOptions producer_options = ProducerOptionsFrom(config.common, kService);
  // The outbox's lease is made to outlast the longest send, or the service does not start.
  auto longest_send = LongestSend(producer_options.delivery_timeout, producer_options.properties);
  absl::Status lease_fits =
      longest_send.ok() ? OutboxLease::For(*longest_send).Check() : longest_send.status();
  if (!lease_fits.ok()) {
    spdlog::critical("{}", std::string(lease_fits.message()));
    return 2;
  }
  auto producer = kafka::KafkaProducer::Create(producer_options);
  if (!redis.ok() || !feed_redis.ok() || !producer.ok()) {
    spdlog::critical("start-up: {} {} {}", redis.status().ToString(),
                     feed_redis.status().ToString(), producer.status().ToString());
    return 1;
  }
  OffsetClock clock(config.clock_offset_file);
  auto now = [&clock] { return clock.Now(); };
  if (!config.clock_offset_file.empty()) {
    spdlog::warn("clock shifted by the seconds in {}", config.clock_offset_file);
  }

  metrics::Registry registry;
  RedisKeys keys{config.redis_key_prefix};
  RedisCaseStore store(**redis, keys, prefix, config.feed_max_length);
  CaseWorkflow workflow(*workflow_options);
  OutboxPublisher outbox(**redis, keys, **producer, instance, registry,
                         OutboxLease::For(*longest_send));
  std::unique_ptr<PlaceReserver> places;
  if (!config.directory.empty()) {
    auto credentials = ChannelCredentialsFor(config.common.tls);
    if (!credentials.ok()) {
      spdlog::critical("{}", credentials.status().ToString());
      return 2;
    }
    places = std::make_unique<GrpcPlaceReserver>(config.directory, *credentials);
  }
  CaseCommands commands(store, workflow, places.get(), now, [&outbox] { outbox.Wake(); });
  TaskFeed feed(**feed_redis, **redis, keys,
                [&store](const std::string& queue) { return SnapshotUpdates(store, queue); });
  TimerScheduler scheduler(
      store, workflow, now, [&outbox] { outbox.Wake(); }, registry);
  FollowUpHandler handler(commands, **producer, cipher, prefix, workflow_options->producer,
                          registry, now);
  AccessAudit audit(**producer, prefix, instance, now);
  WorkerPool workers(config.workers, static_cast<size_t>(config.queue_limit));
  FollowUpService service(commands, store, feed, audit, **authenticator, workers);
  auto& subscribers = registry.GetGauge("signpost_followup_task_subscribers",
                                        "SubscribeTasks streams open on this instance");

  metrics::HttpEndpoint http(registry, [&]() -> absl::Status {
    subscribers.Set(static_cast<double>(feed.subscribers()));
    return (*redis)->Ping();
  });
  auto http_port = StartMetricsEndpoint(http, config.common);
  if (!http_port.ok()) {
    spdlog::critical("{}", http_port.status().ToString());
    return 1;
  }
  outbox.Start();
  feed.Start();
  scheduler.Start(absl::Milliseconds(config.scheduler_interval_ms));

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

  ConsumerThreads consumers;
  for (auto [group, members] : {std::pair{kafka::ConsumerGroup::kFollowup, config.common.consumers},
                                std::pair{kafka::ConsumerGroup::kFollowupWithdrawals, 1}}) {
    if (absl::Status s = consumers.Start(ConsumerOptionsFor(config.common, group, &registry),
                                         handler, **producer, members);
        !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return 1;
    }
  }
  spdlog::info("{} ready: gRPC {}, metrics on port {}", kService, (*server)->address(), *http_port);

  int signal = WaitForShutdownSignal();
  spdlog::info("signal {}: stopping", signal);
  (*server)->Shutdown(absl::Seconds(5));
  consumers.StopAll();
  scheduler.Stop();
  feed.Stop();
  outbox.Stop();
  (void)(*producer)->Flush(absl::Seconds(10));
  http.Stop();
  return 0;
}

}  // namespace
}  // namespace signpost::followup

int main(int argc, char** argv) {
  signpost::followup::FollowUpConfig config;
  CLI::App app("signpost-followup: link workers' task queues, follow-up timers, outcomes");
  signpost::AddCommonOptions(app, config.common);
  app.add_option("--data-keys", config.data_keys,
                 "Keyring file that seals and opens personal details on the bus")
      ->envname("SIGNPOST_DATA_KEYS");
  app.add_option("--directory", config.directory,
                 "signpost-matching's gRPC address, where connections reserve places")
      ->envname("SIGNPOST_DIRECTORY_ADDR");
  app.add_option("--first-contact-working-days", config.first_contact_working_days,
                 "First contact due within this many working days")
      ->envname("SIGNPOST_FIRST_CONTACT_WORKING_DAYS")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--priority-first-contact-working-days",
                 config.priority_first_contact_working_days,
                 "First contact due within this many working days for a priority referral")
      ->envname("SIGNPOST_PRIORITY_FIRST_CONTACT_WORKING_DAYS")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--at-risk-fraction", config.at_risk_fraction,
                 "Share of the first-contact window after which the case is at risk")
      ->check(CLI::Range(0.1, 0.99))
      ->capture_default_str();
  app.add_option("--check-in-days", config.check_in_days,
                 "Follow-up check-ins, in days after a connection")
      ->envname("SIGNPOST_CHECK_IN_DAYS")
      ->delimiter(',')
      ->check(CLI::Range(1, 365))
      ->capture_default_str();
  app.add_option("--check-in-working-days", config.check_in_working_days,
                 "How long a check-in task has before it is overdue")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--holidays", config.holidays, "Bank holidays (YYYY-MM-DD), comma-separated")
      ->envname("SIGNPOST_HOLIDAYS")
      ->delimiter(',');
  app.add_option("--time-zone", config.time_zone, "Where working days are counted")
      ->envname("SIGNPOST_TIME_ZONE")
      ->capture_default_str();
  app.add_option("--scheduler-interval-ms", config.scheduler_interval_ms,
                 "How often due timers are looked for")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  app.add_option("--clock-offset-file", config.clock_offset_file,
                 "Shift the clock by the seconds written in this file (drills and tests)")
      ->envname("SIGNPOST_CLOCK_OFFSET_FILE");
  app.add_option("--redis-key-prefix", config.redis_key_prefix, "Prefix of follow-up keys")
      ->capture_default_str();
  app.add_option("--feed-max-length", config.feed_max_length,
                 "Task updates kept per queue for resuming subscribers")
      ->check(CLI::Range(100, 10000000))
      ->capture_default_str();
  app.add_option("--workers", config.workers,
                 "Threads that run calls (they wait on Redis, Kafka and the directory; gRPC "
                 "threads do not)")
      ->envname("SIGNPOST_FOLLOWUP_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Calls that may wait for a worker; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_FOLLOWUP_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return signpost::followup::Run(config);
}
