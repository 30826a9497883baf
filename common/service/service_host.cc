#include "common/service/service_host.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/config/address.h"
#include "common/config/secret_file.h"
#include "common/grpc/tls_credentials.h"
#include "common/process/offset_clock.h"
#include "common/process/shutdown_signal.h"

namespace signpost {
namespace {

// The payload that marks a status as a configuration problem.
constexpr char kConfigurationPayload[] = "signpost.dev/configuration-error";

// `status` with `context` put before its message; code and payloads kept.
absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&annotated](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

}  // namespace

absl::Status ConfigurationError(absl::Status status) {
  if (!status.ok()) status.SetPayload(kConfigurationPayload, absl::Cord("1"));
  return status;
}

bool IsConfigurationError(const absl::Status& status) {
  return status.GetPayload(kConfigurationPayload).has_value();
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitStopped;
  return IsConfigurationError(status) ? kExitBadConfiguration : kExitStartFailed;
}

int ServiceHost::Main(std::string service, const CommonConfig& config, const Wiring& wire,
                      HostOptions options) {
  ServiceHost host(std::move(service), config, std::move(options));
  return host.Run(wire);
}

ServiceHost::ServiceHost(std::string service, const CommonConfig& config, HostOptions options)
    : service_(std::move(service)), config_(config), options_(std::move(options)) {
  producer_options_ = ProducerOptionsFrom(config_, service_);
  producer_options_.metrics = &registry_;
  if (!options_.wait_for_stop) options_.wait_for_stop = WaitForShutdownSignal;
}

ServiceHost::~ServiceHost() {
  Stop();
  // Made later, destroyed first: an object may use those made before it.
  while (!objects_.empty()) objects_.pop_back();
}

std::string ServiceHost::ProducerName() const {
  return absl::StrCat(service_, "/", InstanceIdOrDefault(config_));
}

int ServiceHost::Run(const Wiring& wire) {
  if (absl::Status s = PrepareService(service_, config_); !s.ok()) {
    Report(ConfigurationError(s));
    return kExitBadConfiguration;
  }
  logging_ready_ = true;
  // Before any thread starts, so that every thread inherits the mask.
  if (options_.handle_signals) BlockShutdownSignals();
  absl::Status started = wire(*this);
  if (started.ok()) started = Start();
  if (!started.ok()) {
    Stop();
    Report(started);
    return ExitCodeFor(started);
  }
  spdlog::info("{} ready: gRPC {}, metrics on port {}", service_,
               server_ ? server_->address() : std::string("none"), http_port_);
  const int signal = options_.wait_for_stop();
  spdlog::info("signal {}: stopping", signal);
  Stop();
  spdlog::info("{} stopped", service_);
  return kExitStopped;
}

void ServiceHost::Report(const absl::Status& status) const {
  const char* what = IsConfigurationError(status) ? "bad configuration" : "start-up failed";
  if (!logging_ready_) {
    std::fprintf(stderr, "%s: %s: %s\n", service_.c_str(), what,
                 std::string(status.message()).c_str());
    return;
  }
  spdlog::critical("{}: {}: {} ({})", service_, what, std::string(status.message()),
                   absl::StatusCodeToString(status.code()));
}

absl::StatusOr<redis::PoolOptions> ServiceHost::RedisPoolOptions(size_t size) {
  if (!redis_options_) {
    const RedisAccessConfig& access = config_.redis_access;
    redis::PoolOptions options;
    if (access.sentinels.empty()) {
      auto address = ParseRedisAddress(config_.redis);
      if (!address.ok()) return ConfigurationError(Annotate(address.status(), "--redis"));
      options.address = *address;
    } else {
      auto sentinels = ParseHostPortList(access.sentinels);
      if (!sentinels.ok()) {
        return ConfigurationError(Annotate(sentinels.status(), "--redis-sentinels"));
      }
      options.sentinel.sentinels = *sentinels;
      options.sentinel.master_name = access.master_name;
      if (!access.sentinel_password_file.empty()) {
        auto password =
            ReadSecretFile(access.sentinel_password_file, "--redis-sentinel-password-file");
        if (!password.ok()) return ConfigurationError(password.status());
        options.sentinel.password = *password;
      }
    }
    if (!access.password_file.empty()) {
      auto password = ReadSecretFile(access.password_file, "--redis-password-file");
      if (!password.ok()) return ConfigurationError(password.status());
      options.credentials = {.username = access.username, .password = *password};
    }
    options.replica_ack = {.replicas = access.min_replicas_acked,
                           .timeout = absl::Milliseconds(access.replica_ack_timeout_ms)};
    redis_options_ = std::move(options);
  }
  redis::PoolOptions options = *redis_options_;
  options.size = size;
  options.metrics = &registry_;
  return options;
}

absl::StatusOr<redis::RedisPool*> ServiceHost::Redis() {
  if (redis_) return redis_.get();
  auto options = RedisPoolOptions(static_cast<size_t>(config_.redis_pool_size));
  if (!options.ok()) return options.status();
  auto pool = redis::RedisPool::Create(*options);
  if (!pool.ok()) return Annotate(pool.status(), "redis");
  redis_ = *std::move(pool);
  return redis_.get();
}

absl::StatusOr<redis::RedisPool*> ServiceHost::DedicatedRedis(size_t size) {
  auto options = RedisPoolOptions(size);
  if (!options.ok()) return options.status();
  auto pool = redis::RedisPool::Create(*options);
  if (!pool.ok()) return Annotate(pool.status(), "redis");
  dedicated_redis_.push_back(*std::move(pool));
  return dedicated_redis_.back().get();
}

absl::Status ServiceHost::CheckRedisAccess() {
  // The shared pool stands for the dedicated ones: they use the same settings.
  redis::RedisPool* pool = redis_                     ? redis_.get()
                           : dedicated_redis_.empty() ? nullptr
                                                      : dedicated_redis_.front().get();
  if (!pool) return absl::OkStatus();
  absl::Status access = pool->CheckAccess();
  if (access.code() == absl::StatusCode::kPermissionDenied) return access;
  if (!access.ok()) spdlog::warn("redis not reachable yet: {}", std::string(access.message()));
  return absl::OkStatus();
}

absl::StatusOr<kafka::KafkaProducer*> ServiceHost::Producer() {
  if (producer_) return producer_.get();
  auto producer = kafka::KafkaProducer::Create(producer_options_);
  if (!producer.ok()) return Annotate(producer.status(), "kafka producer");
  producer_ = *std::move(producer);
  return producer_.get();
}

absl::StatusOr<auth::CallAuthenticator*> ServiceHost::Authenticator() {
  if (authenticator_) return authenticator_.get();
  auto authenticator = auth::CallAuthenticatorFrom(config_.auth);
  if (!authenticator.ok()) return ConfigurationError(authenticator.status());
  authenticator_ = *std::move(authenticator);
  return authenticator_.get();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceHost::ChannelCredentials() {
  auto credentials = ChannelCredentialsFor(config_.tls);
  if (!credentials.ok()) return ConfigurationError(credentials.status());
  return credentials;
}

std::function<absl::Time()> ServiceHost::Clock(const std::string& offset_file) {
  if (offset_file.empty()) return [] { return absl::Now(); };
  spdlog::warn("clock shifted by the seconds in {}", offset_file);
  auto& clock = Make<OffsetClock>(offset_file);
  return [&clock] { return clock.Now(); };
}

absl::StatusOr<crypto::PersonalDetailsCipher*> ServiceHost::Cipher(const std::string& data_keys) {
  if (cipher_) return cipher_.get();
  auto keys = crypto::LoadServiceDataKeys(data_keys);
  if (!keys.ok()) return ConfigurationError(keys.status());
  data_keys_ = std::make_unique<crypto::DataKeyring>(*std::move(keys));
  cipher_ = std::make_unique<crypto::PersonalDetailsCipher>(*data_keys_);
  return cipher_.get();
}

WorkerPool& ServiceHost::Workers(int threads, size_t max_queued) {
  if (!workers_) workers_ = std::make_unique<WorkerPool>(threads, max_queued);
  return *workers_;
}

void ServiceHost::AddComponent(std::string name, std::function<absl::Status()> start,
                               std::function<void()> stop) {
  components_.push_back({std::move(name), std::move(start), std::move(stop)});
}

void ServiceHost::AddDrainStep(std::function<void()> step) {
  drain_steps_.push_back(std::move(step));
}

void ServiceHost::AddGrpcService(grpc::Service* service) { grpc_services_.push_back(service); }

void ServiceHost::AddConsumers(kafka::ConsumerGroup group, kafka::BatchHandler& handler,
                               int members, std::function<void(kafka::ConsumerOptions&)> adjust) {
  consumer_specs_.push_back({group, &handler, members, std::move(adjust)});
}

void ServiceHost::AddReadinessCheck(metrics::HttpEndpoint::ReadinessCheck check) {
  readiness_.push_back(std::move(check));
}

void ServiceHost::AddPage(
    std::string path,
    std::function<metrics::HttpEndpoint::Page(const metrics::HttpEndpoint::Params&)> page,
    metrics::HttpEndpoint::Guard allow) {
  pages_.push_back({std::move(path), std::move(page), std::move(allow)});
}

absl::Status ServiceHost::Start() {
  if (absl::Status s = CheckRedisAccess(); !s.ok()) return s;
  for (; components_started_ < components_.size(); ++components_started_) {
    const Component& component = components_[components_started_];
    if (!component.start) continue;
    if (absl::Status s = component.start(); !s.ok()) return Annotate(s, component.name);
  }
  if (absl::Status s = StartHttp(); !s.ok()) return s;
  if (absl::Status s = StartGrpc(); !s.ok()) return s;
  return StartConsumers();
}

absl::Status ServiceHost::Readiness() {
  for (const auto& check : readiness_) {
    if (absl::Status s = check(); !s.ok()) return s;
  }
  if (redis_) return redis_->Ping();
  return absl::OkStatus();
}

absl::Status ServiceHost::StartHttp() {
  http_ = std::make_unique<metrics::HttpEndpoint>(registry_, [this] { return Readiness(); });
  for (Page& page : pages_) http_->AddPage(page.path, page.page, page.allow);
  for (Route& route : routes_) http_->AddRoute(route.method, route.pattern, route.handler);
  if (route_busy_) http_->SetBusyAnswer(route_busy_);
  for (StreamRoute& stream : streams_) {
    http_->AddStream(stream.pattern, stream.open, stream.owner, stream.headers);
  }
  http_->SetStreamBounds(stream_bounds_);
  auto port = StartMetricsEndpoint(*http_, config_);
  if (!port.ok()) return port.status();
  http_port_ = *port;
  spdlog::info("metrics on port {}", http_port_);
  return absl::OkStatus();
}

absl::Status ServiceHost::StartGrpc() {
  if (grpc_services_.empty()) return absl::OkStatus();
  auto options = GrpcServerOptionsFrom(config_);
  if (!options.ok()) return ConfigurationError(options.status());
  if (max_grpc_message_bytes_ > 0) options->max_receive_message_bytes = max_grpc_message_bytes_;
  auto server = GrpcServer::Start(*options, grpc_services_);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  return absl::OkStatus();
}

absl::Status ServiceHost::StartConsumers() {
  if (consumer_specs_.empty()) return absl::OkStatus();
  auto producer = Producer();  // dead letters go through it
  if (!producer.ok()) return producer.status();
  for (ConsumerSpec& spec : consumer_specs_) {
    kafka::ConsumerOptions options = ConsumerOptionsFor(config_, spec.group, &registry_);
    if (spec.adjust) spec.adjust(options);
    if (absl::Status s = consumers_.Start(options, *spec.handler, **producer, spec.members);
        !s.ok()) {
      return Annotate(s, absl::StrCat("kafka consumers of ", kafka::SpecOf(spec.group).name));
    }
  }
  return absl::OkStatus();
}

void ServiceHost::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& step : drain_steps_) step();
  // Calls before consumers, as every service stopped before the host: the instance stops
  // answering (callers go to another) while its consumers finish their batches. Stopping the
  // consumers at once also closes, more often, a member still joining its group, which
  // librdkafka 2.0.2 does not survive (confluentinc/librdkafka#4312, fixed in 2.3.0).
  if (server_) server_->Shutdown(options_.grace);  // calls in flight get their answer
  workers_.reset();                                // runs what the calls left queued
  consumers_.StopAll();
  if (http_) http_->Stop();
  while (components_started_ > 0) {
    const Component& component = components_[--components_started_];
    if (component.stop) component.stop();
  }
  if (producer_) (void)producer_->Flush(options_.grace);
}

}  // namespace signpost
