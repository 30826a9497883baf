// signpost-followup: the case after matching — link workers' task queues, durable timers,
// outcomes, and the messages back to the referrer.
#include <spdlog/spdlog.h>

#include "common/process/periodic_sweep.h"
#include "common/service/service_host.h"
#include "common/service/service_main.h"
#include "services/followup/app_api.h"
#include "services/followup/case_commands.h"
#include "services/followup/case_retirement.h"
#include "services/followup/followup_handler.h"
#include "services/followup/followup_options.h"
#include "services/followup/followup_service.h"
#include "services/followup/older_case_sealing.h"
#include "services/followup/redis_case_store.h"
#include "services/followup/sealing_case_store.h"
#include "services/followup/task_feed.h"
#include "services/followup/timer_scheduler.h"

namespace signpost::followup {

absl::Status Wire(ServiceHost& host, const FollowUpConfig& config) {
  auto workflow_options = WorkflowOptionsFrom(config, host.ProducerName());
  auto lease = OutboxLeaseFor(host.producer_options());
  for (const absl::Status& s : {workflow_options.status(), lease.status()}) {
    if (!s.ok()) return ConfigurationError(s);
  }
  auto authenticator = host.Authenticator();
  auto cipher = host.Cipher(config.data_keys);
  auto redis = host.Redis();
  auto feed_redis = host.DedicatedRedis(1);  // the task feed's blocking reads
  auto producer = host.Producer();
  for (const absl::Status& s : {authenticator.status(), cipher.status(), redis.status(),
                                feed_redis.status(), producer.status()}) {
    if (!s.ok()) return s;
  }
  std::function<absl::Time()> now = host.Clock(config.clock_offset_file);

  const std::string& prefix = config.common.topic_prefix;
  const std::string instance = InstanceIdOrDefault(config.common);
  RedisKeys keys{config.redis_key_prefix};
  CaseRetention retention{.closed = absl::Hours(24) * config.closed_case_retention_days,
                          .tombstone = absl::Hours(24) * config.closed_case_tombstone_days,
                          .clock = now};
  // The person's details go into Redis sealed with the data keyring, and come out only for
  // GetCase.
  auto& seal = host.Make<CaseDetailsSeal>(**cipher);
  auto& store = host.Make<SealingCaseStore>(
      host.Make<RedisCaseStore>(**redis, keys, prefix, config.feed_max_length, retention), seal);
  auto& workflow = host.Make<CaseWorkflow>(*workflow_options);
  auto& outbox =
      host.Make<OutboxPublisher>(**redis, keys, **producer, instance, host.registry(), *lease);
  PlaceReserver* places = nullptr;
  if (!config.directory.empty()) {
    auto credentials = host.ChannelCredentials();
    if (!credentials.ok()) return credentials.status();
    places = &host.Make<GrpcPlaceReserver>(config.directory, *credentials);
  }
  auto wake_outbox = [&outbox] { outbox.Wake(); };
  auto& commands = host.Make<CaseCommands>(store, workflow, places, now, wake_outbox);
  auto& retirement = host.Make<CaseRetirement>(**redis, keys, retention);
  commands.set_retirement(&retirement);
  auto& feed = host.Make<TaskFeed>(**feed_redis, **redis, keys, [&store](const std::string& queue) {
    return SnapshotUpdates(store, queue);
  });
  auto& timers = host.Make<TimerScheduler>(store, workflow, now, wake_outbox, host.registry());
  auto& handler = host.Make<FollowUpHandler>(commands, **producer, **cipher, prefix,
                                             workflow_options->producer, host.registry());
  auto& audit = host.Make<AccessAudit>(**producer, prefix, instance, now);

  host.AddComponent("outbox", outbox);
  host.AddComponent("task feed", feed);
  host.AddComponent("timers", timers, absl::Milliseconds(config.scheduler_interval_ms));
  // A sweep of 200 cases is a few ms of Redis; several instances may sweep at once (each batch is
  // one script, and what it handles is no longer due).
  host.AddComponent(
      "case retention",
      host.Make<PeriodicSweep>("case retention", absl::Seconds(config.retention_sweep_seconds),
                               [&retirement, cursor = std::string("0"), tasks = false,
                                indexed = false]() mutable -> absl::StatusOr<bool> {
                                 constexpr int kBatch = 200;
                                 // First, once per start: cases written before they could leave.
                                 if (!indexed) {
                                   auto done = retirement.IndexOlderCases(cursor, tasks, kBatch);
                                   if (!done.ok()) return done.status();
                                   indexed = *done;
                                   return true;
                                 }
                                 auto handled = retirement.RetireDue(kBatch);
                                 if (!handled.ok()) return handled.status();
                                 return *handled == kBatch;
                               }));
  // Once per start: cases an older follow-up wrote with the details in clear are sealed in place
  // (then the sweep has nothing left to do until the next start).
  host.AddComponent(
      "older cases sealed",
      host.Make<PeriodicSweep>(
          "older cases sealed", absl::Seconds(config.retention_sweep_seconds),
          [sealing = &host.Make<OlderCaseSealing>(**redis, keys, seal), cursor = std::string("0"),
           done = false]() mutable -> absl::StatusOr<bool> {
            if (done) return false;
            auto over = sealing->SealStep(cursor, 200);
            if (!over.ok()) return over.status();
            done = *over;
            if (done && sealing->sealed() > 0) {
              spdlog::info(
                  "sealed the personal details of {} case(s) written in clear before "
                  "follow-up sealed them (a rewrite of the AOF drops the clear copies)",
                  sealing->sealed());
            }
            return !done;
          }));
  auto& subscribers = host.registry().GetGauge("signpost_followup_task_subscribers",
                                               "SubscribeTasks streams open on this instance");
  host.AddReadinessCheck([&subscribers, &feed] {
    subscribers.Set(static_cast<double>(feed.subscribers()));
    return absl::OkStatus();
  });
  WorkerPool& workers = host.Workers(config.workers, static_cast<size_t>(config.queue_limit));
  auto& service =
      host.Make<FollowUpService>(commands, store, feed, audit, seal, **authenticator, workers);
  host.AddGrpcService(&service);
  // The link-worker app, on the HTTP listener (HTTPS with --tls-cert): the same CaseApi as gRPC.
  AddApp(host, host.Make<AppApi>(service.case_api(), feed, **authenticator, now),
         config.app_max_streams, absl::Seconds(config.app_stream_max_seconds));
  host.AddConsumers(kafka::ConsumerGroup::kFollowup, handler, config.common.consumers);
  host.AddConsumers(kafka::ConsumerGroup::kFollowupWithdrawals, handler);
  return absl::OkStatus();
}

}  // namespace signpost::followup

int main(int argc, char** argv) {
  return signpost::ServiceMain(argc, argv, "signpost-followup",
                               "link workers' task queues, follow-up timers, outcomes",
                               signpost::followup::AddFollowUpOptions, signpost::followup::Wire);
}
