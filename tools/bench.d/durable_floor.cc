// signpost-bench-durable: the least a durable acknowledgement can cost, the intake benchmark's
// second baseline. Per call it does what any intake must before it says "accepted": one Redis
// SET NX (the claim that makes a retry the same submission) and one Kafka produce with acks=all
// (the referral held by the broker), then answers. Same gRPC bootstrap, worker pool, Redis pool
// and idempotent producer (linger and pool sizes as intake's defaults) as signpost-intake; none of
// intake's checks, sealing, status or metrics.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "common/config/address.h"
#include "common/grpc/grpc_server.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "common/process/process_tuning.h"
#include "common/process/shutdown_signal.h"
#include "common/process/worker_pool.h"
#include "common/redis/redis_pool.h"
#include "services/intake/intake_options.h"
#include "signpost/bench/v1/echo.grpc.pb.h"

namespace {

using signpost::bench::v1::EchoMessage;

class DurableFloorService final : public signpost::bench::v1::Echo::CallbackService {
 public:
  DurableFloorService(signpost::WorkerPool& workers, signpost::redis::RedisClient& redis,
                      signpost::kafka::Producer& producer, std::string topic)
      : workers_(workers), redis_(redis), producer_(producer), topic_(std::move(topic)) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoMessage* request,
                                 EchoMessage* response) override {
    auto* reactor = context->DefaultReactor();
    // As intake: the gRPC thread never waits on Redis or Kafka; a worker does.
    bool queued = workers_.TrySchedule([this, request, response, reactor] {
      auto claimed = redis_.Execute(
          {"SET", absl::StrCat("bench:claim:", request->id()), "1", "NX", "EX", "86400"});
      if (!claimed.ok()) {
        reactor->Finish(
            grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(claimed.status().message())));
        return;
      }
      producer_.SendAsync({.topic = topic_, .key = request->id(), .value = request->payload()},
                          [request, response, reactor](absl::Status delivered) {
                            if (!delivered.ok()) {
                              reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                           std::string(delivered.message())));
                              return;
                            }
                            response->set_id(request->id());
                            reactor->Finish(grpc::Status::OK);
                          });
    });
    if (!queued) reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "busy"));
    return reactor;
  }

 private:
  signpost::WorkerPool& workers_;
  signpost::redis::RedisClient& redis_;
  signpost::kafka::Producer& producer_;
  const std::string topic_;
};

}  // namespace

int main(int argc, char** argv) {
  signpost::TuneProcess();
  signpost::GrpcServerOptions options;
  std::string bootstrap, redis_address = "127.0.0.1:6379", topic_prefix;
  // Intake's defaults, read from its settings so that the floor follows them.
  const signpost::intake::IntakeConfig intake;
  int workers = intake.workers, queue_limit = intake.queue_limit,
      redis_pool_size = intake.common.redis_pool_size, linger_ms = intake.linger_ms;
  CLI::App app(
      "signpost-bench-durable: a bare gRPC server that claims in Redis (SET NX) and "
      "publishes with acks=all before answering");
  app.add_option("--listen", options.listen)->capture_default_str();
  app.add_option("--port-file", options.port_file);
  app.add_option("--kafka-bootstrap", bootstrap)->required();
  app.add_option("--redis", redis_address)->capture_default_str();
  app.add_option("--topic-prefix", topic_prefix, "Prefix of the topics it publishes to");
  app.add_option("--workers", workers)->capture_default_str();
  app.add_option("--queue-limit", queue_limit)->capture_default_str();
  app.add_option("--redis-pool-size", redis_pool_size)->capture_default_str();
  app.add_option("--kafka-linger-ms", linger_ms)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signpost::BlockShutdownSignals();

  auto address = signpost::ParseRedisAddress(redis_address);
  if (!address.ok()) {
    spdlog::critical("--redis: {}", address.status().ToString());
    return 2;
  }
  auto redis = signpost::redis::RedisPool::Create(
      {.address = *address, .size = static_cast<size_t>(redis_pool_size)});
  auto producer = signpost::kafka::KafkaProducer::Create({.bootstrap = bootstrap,
                                                          .client_id = "signpost-bench-durable",
                                                          .linger = absl::Milliseconds(linger_ms)});
  if (!redis.ok() || !producer.ok()) {
    spdlog::critical("{}", !redis.ok() ? redis.status().ToString() : producer.status().ToString());
    return 1;
  }
  {
    signpost::WorkerPool pool(workers, static_cast<size_t>(queue_limit));
    DurableFloorService service(
        pool, **redis, **producer,
        signpost::kafka::TopicName(signpost::kafka::Topic::kReferralReceived, topic_prefix));
    auto server = signpost::GrpcServer::Start(options, {&service});
    if (!server.ok()) {
      spdlog::critical("{}", server.status().ToString());
      return 1;
    }
    signpost::WaitForShutdownSignal();
    (*server)->Shutdown(absl::Seconds(2));
  }
  (void)(*producer)->Flush(absl::Seconds(5));
  return 0;
}
