#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/call_authenticator.h"
#include "common/config/common_config.h"
#include "common/crypto/data_keyring.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/grpc/grpc_server.h"
#include "common/kafka/consumer.h"
#include "common/kafka/consumer_groups.h"
#include "common/kafka/kafka_producer.h"
#include "common/metrics/http_endpoint.h"
#include "common/metrics/registry.h"
#include "common/process/service_setup.h"
#include "common/process/worker_pool.h"
#include "common/redis/redis_pool.h"

namespace signpost {

// How every service ends: one set of exit codes for all of them.
inline constexpr int kExitStopped = 0;           // stopped by SIGTERM or SIGINT, work drained
inline constexpr int kExitStartFailed = 1;       // a dependency or listener could not be started
inline constexpr int kExitBadConfiguration = 2;  // a flag, variable or file it names is wrong

// Marks `status` as a configuration problem (exit code 2 rather than 1); OK stays OK.
absl::Status ConfigurationError(absl::Status status);
bool IsConfigurationError(const absl::Status& status);
// The exit code a failed start ends with.
int ExitCodeFor(const absl::Status& status);

struct HostOptions {
  // One grace period for every stop: calls in flight may finish for this long, then are
  // cancelled; the producer gets as long again to deliver what it holds.
  absl::Duration grace = absl::Seconds(10);
  // SIGTERM and SIGINT blocked before any thread starts and waited for; tests pass their own wait.
  bool handle_signals = true;
  std::function<int()> wait_for_stop;
};

// Builds and runs one service, in the spirit of a component list with an explicit start and stop
// order. A service's wiring function asks the host for the shared resources (each created on
// first use from the common configuration) and registers what it adds: gRPC services, consumers,
// components, readiness checks and pages. The host then starts
//   components (in registration order), HTTP endpoint, gRPC server, consumers,
// waits for a stop signal, and stops them: drain steps, gRPC (for the grace period) and its worker
// pool, consumers, HTTP, components (reverse order), and last the producer (flushed). That is the
// reverse order but for gRPC, which stops taking calls first (see Stop()). A start that fails
// stops what had started, in the same order.
class ServiceHost {
 public:
  using Wiring = std::function<absl::Status(ServiceHost&)>;

  // Prepares the process (configuration checked, logging), wires, starts, waits, stops; returns
  // the exit code. Every failure is reported once, on the log (stderr before logging is set up).
  static int Main(std::string service, const CommonConfig& config, const Wiring& wire,
                  HostOptions options = {});

  // The same for a service's settings `config` holding the common ones in `config.common`.
  template <typename Config>
  static int Main(std::string service, const Config& config,
                  absl::Status (*wire)(ServiceHost&, const Config&)) {
    return Main(std::move(service), config.common,
                [&config, wire](ServiceHost& host) { return wire(host, config); });
  }

  ServiceHost(std::string service, const CommonConfig& config, HostOptions options = {});
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  int Run(const Wiring& wire);

  const std::string& service() const { return service_; }
  const CommonConfig& config() const { return config_; }
  // "<service>/<instance id>": the producer name events carry.
  std::string ProducerName() const;

  // --- shared resources, created on first use ---------------------------------------------
  metrics::Registry& registry() { return registry_; }
  // The pool of --redis-pool-size connections; its PING is a readiness check.
  absl::StatusOr<redis::RedisPool*> Redis();
  // A pool of its own (e.g. one connection for blocking reads).
  absl::StatusOr<redis::RedisPool*> DedicatedRedis(size_t size);
  // The producer; adjust producer_options() before the first call.
  kafka::ProducerOptions& producer_options() { return producer_options_; }
  absl::StatusOr<kafka::KafkaProducer*> Producer();
  absl::StatusOr<auth::CallAuthenticator*> Authenticator();
  // Credentials for calls to other services, as --tls-ca (or --insecure) says.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials();
  // The clock, shifted by the seconds written in `offset_file` when one is named (drills, tests).
  std::function<absl::Time()> Clock(const std::string& offset_file);
  // The cipher of the keyring named by a service's --data-keys.
  absl::StatusOr<crypto::PersonalDetailsCipher*> Cipher(const std::string& data_keys);
  // The bounded pool gRPC services hand their blocking work to; sized by the first call.
  WorkerPool& Workers(int threads = 16, size_t max_queued = 256);

  // --- what a service registers --------------------------------------------------------------
  // Something with a start and a stop; either may be empty.
  void AddComponent(std::string name, std::function<absl::Status()> start,
                    std::function<void()> stop = nullptr);
  // An object with Start(start_args...) (returning void or absl::Status) and Stop().
  template <typename T, typename... Args>
  void AddComponent(std::string name, T& component, Args... start_args) {
    AddComponent(
        std::move(name),
        [&component, start_args...]() -> absl::Status {
          if constexpr (std::is_void_v<decltype(component.Start(start_args...))>) {
            component.Start(start_args...);
            return absl::OkStatus();
          } else {
            return component.Start(start_args...);
          }
        },
        [&component] { component.Stop(); });
  }
  // Run first when a stop begins, before consumers and calls are drained.
  void AddDrainStep(std::function<void()> step);
  void AddGrpcService(grpc::Service* service);
  void SetMaxGrpcMessageBytes(int bytes) { max_grpc_message_bytes_ = bytes; }
  // `members` consumers of `group` sharing `handler` (thread-safe when more than one).
  void AddConsumers(kafka::ConsumerGroup group, kafka::BatchHandler& handler, int members = 1,
                    std::function<void(kafka::ConsumerOptions&)> adjust = nullptr);
  // Asked by /readyz in registration order, before the shared resources' own checks.
  void AddReadinessCheck(metrics::HttpEndpoint::ReadinessCheck check);
  void AddPage(
      std::string path,
      std::function<metrics::HttpEndpoint::Page(const metrics::HttpEndpoint::Params&)> page,
      metrics::HttpEndpoint::Guard allow = nullptr);
  // A route of the service's own HTTP API on the same listener (see HttpEndpoint::AddRoute).
  void AddRoute(metrics::HttpEndpoint::Method method, std::string pattern,
                metrics::HttpEndpoint::Handler handler) {
    routes_.push_back({method, std::move(pattern), std::move(handler)});
  }
  // What every route answers while the listener is busy (see HttpEndpoint::SetBusyAnswer).
  void SetRouteBusyAnswer(metrics::HttpEndpoint::Handler busy) { route_busy_ = std::move(busy); }
  // A server-sent event stream on the same listener, and the streams' bounds (see
  // HttpEndpoint::AddStream and SetStreamBounds).
  void AddStream(std::string pattern, metrics::HttpEndpoint::StreamOpen open,
                 metrics::HttpEndpoint::StreamOwner owner,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    streams_.push_back({std::move(pattern), std::move(open), std::move(owner), std::move(headers)});
  }
  void SetStreamBounds(metrics::HttpEndpoint::StreamBounds bounds) { stream_bounds_ = bounds; }
  // Streams open now on the listener (0 before Start).
  int open_http_streams() const { return http_ ? http_->open_streams() : 0; }

  // An object the service's wiring makes, kept until everything has stopped.
  template <typename T, typename... Args>
  T& Make(Args&&... args) {
    auto object = std::make_shared<T>(std::forward<Args>(args)...);
    T& ref = *object;
    objects_.push_back(std::move(object));
    return ref;
  }

  // Started in order; on failure what started is stopped again. Exposed for tests.
  absl::Status Start();
  void Stop();
  int grpc_port() const { return server_ ? server_->port() : 0; }
  int http_port() const { return http_port_; }

 private:
  struct Component {
    std::string name;
    std::function<absl::Status()> start;
    std::function<void()> stop;
  };
  struct ConsumerSpec {
    kafka::ConsumerGroup group;
    kafka::BatchHandler* handler;
    int members;
    std::function<void(kafka::ConsumerOptions&)> adjust;
  };
  struct Page {
    std::string path;
    std::function<metrics::HttpEndpoint::Page(const metrics::HttpEndpoint::Params&)> page;
    metrics::HttpEndpoint::Guard allow;
  };

  // The pool settings from the common configuration, the password files read on first use.
  absl::StatusOr<redis::PoolOptions> RedisPoolOptions(size_t size);
  // Refused Redis credentials end the start (exit 1, naming Redis and the user); a Redis that
  // cannot be reached yet does not (readiness reports it until it can).
  absl::Status CheckRedisAccess();
  absl::Status StartHttp();
  absl::Status StartGrpc();
  absl::Status StartConsumers();
  absl::Status Readiness();
  void Report(const absl::Status& status) const;

  const std::string service_;
  const CommonConfig config_;
  HostOptions options_;
  bool logging_ready_ = false;

  // Infrastructure first: destroyed last.
  metrics::Registry registry_;
  kafka::ProducerOptions producer_options_;
  std::optional<redis::PoolOptions> redis_options_;
  std::unique_ptr<redis::RedisPool> redis_;
  std::vector<std::unique_ptr<redis::RedisPool>> dedicated_redis_;
  std::unique_ptr<kafka::KafkaProducer> producer_;
  std::unique_ptr<auth::CallAuthenticator> authenticator_;
  std::unique_ptr<crypto::DataKeyring> data_keys_;
  std::unique_ptr<crypto::PersonalDetailsCipher> cipher_;
  // The wiring's objects, destroyed (in reverse) before the infrastructure they use.
  std::vector<std::shared_ptr<void>> objects_;
  std::unique_ptr<WorkerPool> workers_;

  std::vector<Component> components_;
  size_t components_started_ = 0;
  std::vector<std::function<void()>> drain_steps_;
  std::vector<grpc::Service*> grpc_services_;
  int max_grpc_message_bytes_ = 0;
  std::vector<ConsumerSpec> consumer_specs_;
  std::vector<metrics::HttpEndpoint::ReadinessCheck> readiness_;
  std::vector<Page> pages_;
  struct Route {
    metrics::HttpEndpoint::Method method;
    std::string pattern;
    metrics::HttpEndpoint::Handler handler;
  };
  std::vector<Route> routes_;
  metrics::HttpEndpoint::Handler route_busy_;
  struct StreamRoute {
    std::string pattern;
    metrics::HttpEndpoint::StreamOpen open;
    metrics::HttpEndpoint::StreamOwner owner;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<StreamRoute> streams_;
  metrics::HttpEndpoint::StreamBounds stream_bounds_;

  std::unique_ptr<metrics::HttpEndpoint> http_;
  int http_port_ = 0;
  std::unique_ptr<GrpcServer> server_;
  ConsumerThreads consumers_;
  bool stopped_ = false;
};

}  // namespace signpost
