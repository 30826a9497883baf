#pragma once

#include <functional>
#include <string>

#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "services/matching/directory_index.h"
#include "services/matching/match_policy.h"
#include "services/matching/match_reading.h"
#include "services/matching/roster.h"
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
// events are recorded with the assignment, once (MatchOnce), and their ids derive from the
// referral, so a redelivered event republishes the same events byte for byte and raises no
// caseload twice. While Redis is unreachable or the directory is being (re)loaded, messages are
// retried, never skipped, by the one retry policy (kafka::OutcomeOf, and kafka::PlanBatch for
// what follows a retried message in its partition: it is not published now). A batch's results are
// published together and the batch is done once the broker has them all: one wait for
// acknowledgements per batch, not per referral; and a batch's reads from Redis go in one round
// trip, its records in another.
class MatchingHandler final : public kafka::BatchHandler {
 public:
  MatchingHandler(MatchingOptions options, DirectoryIndex& directory, Roster& roster,
                  kafka::Producer& producer, metrics::Registry& metrics,
                  std::function<bool()> directory_ready, std::function<absl::Time()> clock);

  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override;

 private:
  // The events to publish for one received referral, read for: the match and its unmet needs.
  std::vector<v1::Event> Match(const v1::Event& received, const MatchReading& read);

  MatchingOptions options_;
  DirectoryIndex& directory_;
  Roster& roster_;
  kafka::Producer& producer_;
  metrics::Registry& metrics_;
  std::function<bool()> directory_ready_;
  std::function<absl::Time()> clock_;
};

}  // namespace signpost::matching
