#pragma once

#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/message.h"

namespace signpost::kafka {

// What a handler says about one message.
struct Outcome {
  enum class Kind {
    kDone,        // processed: its offset may be committed
    kRetry,       // transient failure: deliver it again after a backoff, advance nothing after it
    kDeadLetter,  // poison: copy to the dead-letter topic with the reason, then move on
  };
  Kind kind = Kind::kDone;
  std::string reason;

  static Outcome Done() { return {Kind::kDone, ""}; }
  static Outcome Retry(std::string reason) { return {Kind::kRetry, std::move(reason)}; }
  static Outcome DeadLetter(std::string reason) { return {Kind::kDeadLetter, std::move(reason)}; }
};

// Service logic behind a consumer. It receives messages in batches (in partition order) and
// answers one Outcome per message, in the same order. Redelivery happens (after a retry, a
// rebalance or a crash), so handlers must be idempotent.
class BatchHandler {
 public:
  virtual ~BatchHandler() = default;
  virtual std::vector<Outcome> Handle(std::span<const ConsumedMessage> batch) = 0;
};

// The rule every handler keeps after a retry: the rest of that message's partition in the batch
// is not handled now (it comes again after the retried message, in order); other partitions go
// on. MessageHandler applies it; a handler that groups messages (follow-up opens consecutive
// matches together) asks it before handling each one.
class RetriedPartitions {
 public:
  // True when an earlier message of `message`'s partition was retried: answer Skipped() for it.
  bool Stopped(const ConsumedMessage& message) const;
  // Records the outcome of `message`: a retry stops its partition.
  void Note(const ConsumedMessage& message, const Outcome& outcome);
  // The outcome of a message not handled because of an earlier retry (PlanBatch skips it).
  static Outcome Skipped() { return Outcome::Retry("earlier message in partition is retried"); }

 private:
  std::set<std::pair<std::string, int32_t>> stopped_;
};

// A handler of one message at a time. Batches are taken in order; after a message is retried,
// the rest of its partition in the batch is retried unhandled (it comes again after it).
class MessageHandler : public BatchHandler {
 public:
  std::vector<Outcome> Handle(std::span<const ConsumedMessage> batch) final;

 protected:
  virtual Outcome HandleMessage(const ConsumedMessage& message) = 0;
};

// Adapts a function of one message to a BatchHandler.
std::unique_ptr<BatchHandler> PerMessage(std::function<Outcome(const ConsumedMessage&)> handle);

}  // namespace signpost::kafka
