#pragma once

#include <functional>
#include <string>

#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "services/matching/directory_cache.h"
#include "services/matching/match_policy.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

struct MatchingOptions {
  std::string topic_prefix;
  std::string producer_name = "signpost-matching";
  MatchPolicy policy;
};

// Consumes signpost.referral.received: for each received referral finds candidates near the
// person, filters and ranks them, assigns a link worker once, and publishes
// signpost.referral.matched plus one signpost.need.unmet per need left without an option. The
// events' ids derive from the referral, so a redelivered event republishes the same events and
// raises no caseload twice. While Redis is unreachable or the directory is being (re)loaded,
// messages are retried, never skipped. A batch's results are published together and the batch
// is done once the broker has them all: one wait for acknowledgements per batch, not per referral.
class MatchingHandler final : public kafka::BatchHandler {
 public:
  MatchingHandler(MatchingOptions options, DirectoryCache& directory, kafka::Producer& producer,
                  metrics::Registry& metrics, std::function<bool()> directory_ready,
                  std::function<absl::Time()> clock);

  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override;

  // Matches one received referral: the events to publish (the match and its unmet needs).
  absl::StatusOr<std::vector<kafka::OutgoingMessage>> Match(const v1::Event& received);

 private:
  MatchingOptions options_;
  DirectoryCache& directory_;
  kafka::Producer& producer_;
  metrics::Registry& metrics_;
  std::function<bool()> directory_ready_;
  std::function<absl::Time()> clock_;
};

}  // namespace signpost::matching
