#include "common/kafka/batch_plan.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

namespace signpost::kafka {

std::vector<PlannedStep> PlanBatch(std::span<const ConsumedMessage> batch,
                                   std::span<const Outcome> outcomes) {
  if (batch.size() != outcomes.size()) {
    std::fprintf(stderr, "handler answered %zu outcomes for a batch of %zu\n", outcomes.size(),
                 batch.size());
    std::abort();
  }
  RetriedPartitions retried;
  std::vector<PlannedStep> steps;
  steps.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (retried.Stopped(batch[i])) {
      steps.push_back({PlannedStep::Action::kSkip, i, ""});
      continue;
    }
    switch (outcomes[i].kind) {
      case Outcome::Kind::kDone:
        steps.push_back({PlannedStep::Action::kCommit, i, ""});
        break;
      case Outcome::Kind::kDeadLetter:
        steps.push_back({PlannedStep::Action::kDeadLetter, i, outcomes[i].reason});
        break;
      case Outcome::Kind::kRetry:
        steps.push_back({PlannedStep::Action::kRetryFrom, i, outcomes[i].reason});
        retried.Note(batch[i], outcomes[i]);
        break;
    }
  }
  return steps;
}

bool RetriedPartitions::Stopped(const ConsumedMessage& message) const {
  return stopped_.contains({message.topic, message.partition});
}

void RetriedPartitions::Note(const ConsumedMessage& message, const Outcome& outcome) {
  if (outcome.kind == Outcome::Kind::kRetry) stopped_.insert({message.topic, message.partition});
}

std::vector<Outcome> MessageHandler::Handle(std::span<const ConsumedMessage> batch) {
  std::vector<Outcome> out;
  out.reserve(batch.size());
  RetriedPartitions retried;
  for (const auto& message : batch) {
    // After a retry in a partition the rest of it comes again: do not handle it twice now.
    if (retried.Stopped(message)) {
      out.push_back(RetriedPartitions::Skipped());
      continue;
    }
    out.push_back(HandleMessage(message));
    retried.Note(message, out.back());
  }
  return out;
}

namespace {

class FunctionHandler final : public MessageHandler {
 public:
  explicit FunctionHandler(std::function<Outcome(const ConsumedMessage&)> handle)
      : handle_(std::move(handle)) {}

 protected:
  Outcome HandleMessage(const ConsumedMessage& message) override { return handle_(message); }

 private:
  std::function<Outcome(const ConsumedMessage&)> handle_;
};

}  // namespace

std::unique_ptr<BatchHandler> PerMessage(std::function<Outcome(const ConsumedMessage&)> handle) {
  return std::make_unique<FunctionHandler>(std::move(handle));
}

}  // namespace signpost::kafka
