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
  std::set<std::pair<std::string, int32_t>> stopped;
  std::vector<PlannedStep> steps;
  steps.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    auto partition = std::make_pair(batch[i].topic, batch[i].partition);
    if (stopped.contains(partition)) {
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
        stopped.insert(partition);
        break;
    }
  }
  return steps;
}

std::vector<Outcome> MessageHandler::Handle(std::span<const ConsumedMessage> batch) {
  std::vector<Outcome> out;
  out.reserve(batch.size());
  std::set<std::pair<std::string, int32_t>> stopped;
  for (const auto& message : batch) {
    // After a retry in a partition the rest of it comes again: do not handle it twice now.
    if (stopped.contains({message.topic, message.partition})) {
      out.push_back(Outcome::Retry("earlier message in partition is retried"));
      continue;
    }
    out.push_back(HandleMessage(message));
    if (out.back().kind == Outcome::Kind::kRetry) {
      stopped.insert({message.topic, message.partition});
    }
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
