#pragma once

#include "common/kafka/consumer.h"
#include "services/intake/status_store.h"

namespace signpost::intake {

// Keeps the status view up to date from the lifecycle topics (received, matched, follow-up).
class StatusEventsHandler final : public kafka::BatchHandler {
 public:
  explicit StatusEventsHandler(StatusStore& statuses) : statuses_(statuses) {}
  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override;

 private:
  StatusStore& statuses_;
};

}  // namespace signpost::intake
