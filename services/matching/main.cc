// signpost-matching: keeps the directory cache in Redis from signpost.directory.resources and
// turns each received referral into ranked options per need and an assigned link worker.
#include <limits>

#include "common/kafka/topics.h"
#include "common/service/service_host.h"
#include "common/service/service_main.h"
#include "services/matching/caseload_handler.h"
#include "services/matching/directory_applier.h"
#include "services/matching/directory_cache.h"
#include "services/matching/directory_loader.h"
#include "services/matching/directory_service.h"
#include "services/matching/matching_options.h"
#include "services/matching/oruk_api.h"

namespace signpost::matching {

absl::Status Wire(ServiceHost& host, const MatchingConfig& config) {
  auto options = MatchingOptionsFrom(config, host.ProducerName());
  if (!options.ok()) return ConfigurationError(options.status());
  auto authenticator = host.Authenticator();
  auto redis = host.Redis();
  auto producer = host.Producer();
  for (const absl::Status& s : {authenticator.status(), redis.status(), producer.status()}) {
    if (!s.ok()) return s;
  }
  const CommonConfig& common = config.common;
  const std::string directory_topic =
      kafka::TopicName(kafka::Topic::kDirectoryResources, common.topic_prefix);
  auto& directory = host.Make<DirectoryCache>(**redis);
  auto& postcodes = host.Make<PostcodeLookup>(**redis);
  auto& loader = host.Make<DirectoryLoader>(
      kafka::TopicFollower::Options{common.kafka_bootstrap, directory_topic,
                                    common.kafka_properties},
      directory, directory, postcodes, config.postcodes);
  host.AddComponent("directory cache", loader);
  host.AddReadinessCheck([&loader] {
    return loader.Ready() ? absl::OkStatus() : absl::UnavailableError("directory cache loading");
  });
  AddOrukApi(host, directory, **redis, [&loader] { return loader.Ready(); });

  std::function<absl::Time()> now = [] { return absl::Now(); };
  auto& handler = host.Make<MatchingHandler>(
      *options, directory, directory, **producer, host.registry(),
      [&loader] { return loader.Ready(); }, now);
  WorkerPool& workers = host.Workers(config.workers, static_cast<size_t>(config.queue_limit));
  host.AddGrpcService(&host.Make<DirectoryService>(directory, directory, directory, postcodes,
                                                   **producer, directory_topic, options->policy,
                                                   now, **authenticator, workers));
  host.SetMaxGrpcMessageBytes(64 * 1024 * 1024);  // Open Referral imports
  host.AddConsumers(kafka::ConsumerGroup::kMatching, handler, config.common.consumers);
  host.AddConsumers(kafka::ConsumerGroup::kMatchingCaseloads,
                    host.Make<CaseloadHandler>(directory, host.registry()));
  // Unreadable directory records to the dead-letter topic, once (one member per instance); the
  // loader applies records of any size, so none is set aside for its size.
  auto& check =
      host.Make<std::unique_ptr<kafka::BatchHandler>>(kafka::PerMessage(CheckDirectoryRecord));
  host.AddConsumers(kafka::ConsumerGroup::kMatchingDirectory, *check, 1,
                    [](kafka::ConsumerOptions& options) {
                      options.max_record_bytes = std::numeric_limits<size_t>::max();
                    });
  return absl::OkStatus();
}

}  // namespace signpost::matching

int main(int argc, char** argv) {
  return signpost::ServiceMain(argc, argv, "signpost-matching",
                               "matches referrals to community resources and link workers",
                               signpost::matching::AddMatchingOptions, signpost::matching::Wire);
}
