#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/kafka/consumer.h"
#include "common/kafka/message.h"

namespace signpost::kafka {

// What the consumer does with each message of a batch once the handler has answered. Pure: the
// rules live here so they can be tested without a broker.
//  - kCommit: store offset + 1.
//  - kDeadLetter: copy to the dead-letter topic; only when that is acknowledged, store offset + 1.
//  - kRetryFrom: rewind the partition to this offset and pause it for a backoff.
//  - kSkip: an earlier message of the same partition is being retried; this one comes again.
struct PlannedStep {
  enum class Action { kCommit, kDeadLetter, kRetryFrom, kSkip };
  Action action;
  size_t index;  // into the batch
  std::string reason;
};

// Crashes if outcomes.size() != batch.size(): a handler that does so is a programming error.
std::vector<PlannedStep> PlanBatch(std::span<const ConsumedMessage> batch,
                                   std::span<const Outcome> outcomes);

}  // namespace signpost::kafka
