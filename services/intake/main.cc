// signpost-intake: accepts referrals over gRPC and from signpost.referral.submitted, validates,
// de-duplicates and publishes them; serves their status.
#include "common/kafka/admin.h"
#include "common/process/periodic_sweep.h"
#include "common/service/service_host.h"
#include "common/service/service_main.h"
#include "services/intake/fhir_http_api.h"
#include "services/intake/fhir_task_api.h"
#include "services/intake/intake_options.h"
#include "services/intake/intake_service.h"
#include "services/intake/redis_status_store.h"
#include "services/intake/redis_submission_store.h"
#include "services/intake/status_events_handler.h"
#include "services/intake/submissions_handler.h"

namespace signpost::intake {

absl::Status Wire(ServiceHost& host, const IntakeConfig& config) {
  absl::StatusOr<PriorityPolicy> policy = PolicyFrom(config);
  if (!policy.ok()) return ConfigurationError(policy.status());
  auto cipher = host.Cipher(config.data_keys);
  if (!cipher.ok()) return cipher.status();
  auto authenticator = host.Authenticator();
  if (!authenticator.ok()) return authenticator.status();
  if (config.create_topics) {
    host.AddComponent("creating topics", [&common = config.common] {
      return kafka::EnsureSignpostTopics({.bootstrap = common.kafka_bootstrap,
                                          .prefix = common.topic_prefix,
                                          .properties = common.kafka_properties});
    });
  }
  auto redis = host.Redis();
  if (!redis.ok()) return redis.status();
  host.producer_options().delivery_timeout = absl::Milliseconds(config.delivery_timeout_ms);
  host.producer_options().linger = absl::Milliseconds(config.linger_ms);
  auto producer = host.Producer();
  if (!producer.ok()) return producer.status();

  const absl::Duration retention = absl::Hours(24) * config.dedup_retention_days;
  auto& submissions = host.Make<RedisSubmissionStore>(**redis, retention);
  auto clock = host.Clock(config.clock_offset_file);
  StatusRetention status_retention{.status = absl::Hours(24) * config.status_retention_days,
                                   .tombstone = absl::Hours(24) * config.status_tombstone_days,
                                   .clock = clock};
  auto& statuses = host.Make<RedisStatusStore>(**redis, status_retention);
  // A sweep of 500 ids is a few ms of Redis; several instances may sweep at once (each batch is
  // one script, and what it handles is no longer due).
  host.AddComponent(
      "status expiry",
      host.Make<PeriodicSweep>("status expiry", absl::Seconds(config.retention_sweep_seconds),
                               [&statuses, cursor = std::string("0"),
                                indexed = false]() mutable -> absl::StatusOr<bool> {
                                 constexpr int kBatch = 500;
                                 // First, once per start: views written before they expired.
                                 if (!indexed) {
                                   auto done = statuses.IndexOlderViews(cursor, kBatch);
                                   if (!done.ok()) return done.status();
                                   indexed = *done;
                                   return true;
                                 }
                                 auto handled = statuses.ExpireDue(kBatch);
                                 if (!handled.ok()) return handled.status();
                                 return *handled == kBatch;
                               }));
  SubmitterOptions options;
  options.topic_prefix = config.common.topic_prefix;
  options.producer_name = host.ProducerName();
  options.priority = *policy;
  options.lease = absl::Milliseconds(config.delivery_timeout_ms) * 3;
  options.in_progress_wait = options.lease + absl::Seconds(5);
  options.dedup_retention = retention;
  options.status_retention = status_retention.status;
  options.max_waiting = static_cast<size_t>(config.queue_limit);
  options.max_queued_claims = static_cast<size_t>(config.queue_limit);
  auto& submitter = host.Make<Submitter>(options, submissions, statuses, **producer, **cipher,
                                         host.registry(), clock);
  // A duplicate waiting on another attempt retries elsewhere rather than hold up the stop.
  host.AddDrainStep([&submitter] { submitter.StopWaiting(); });

  WorkerPool& workers = host.Workers(config.workers, static_cast<size_t>(config.queue_limit));
  host.AddGrpcService(&host.Make<IntakeService>(submitter, workers, **authenticator));
  host.AddRoute(metrics::HttpEndpoint::Method::kPost, kProcessMessageRoute,
                host.Make<FhirMessageApi>(submitter, **authenticator).Handler());
  AddFhirTaskRoutes(host, submitter, **authenticator, config.common.tls.insecure);
  host.SetRouteBusyAnswer(FhirBusyAnswer);
  host.AddConsumers(kafka::ConsumerGroup::kIntakeSubmissions,
                    host.Make<SubmissionsHandler>(submitter), config.common.consumers);
  host.AddConsumers(kafka::ConsumerGroup::kIntakeStatus, host.Make<StatusEventsHandler>(statuses));
  return absl::OkStatus();
}

}  // namespace signpost::intake

int main(int argc, char** argv) {
  return signpost::ServiceMain(argc, argv, "signpost-intake",
                               "accepts social prescribing referrals",
                               signpost::intake::AddIntakeOptions, signpost::intake::Wire);
}
