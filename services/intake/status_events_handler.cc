#include "services/intake/status_events_handler.h"

#include "common/events/event_factory.h"
#include "common/kafka/retry_policy.h"

namespace signpost::intake {

std::vector<kafka::Outcome> StatusEventsHandler::Handle(
    std::span<const kafka::ConsumedMessage> batch) {
  std::vector<kafka::Outcome> out(batch.size(), kafka::Outcome::Done());
  std::vector<std::pair<std::string, StatusUpdate>> updates;
  std::vector<size_t> applied_from;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto event = events::ParseEvent(batch[i]);
    if (!event.ok()) {
      out[i] = kafka::OutcomeOf(event.status());
      continue;
    }
    auto update = ProjectStatus(*event);
    if (!update || event->envelope().referral_id().empty()) continue;
    updates.emplace_back(event->envelope().referral_id(), *std::move(update));
    applied_from.push_back(i);
  }
  // One pipelined round trip for the batch; applying is idempotent, so on failure the whole
  // batch comes again. Which message a failure of the round trip is about is unknown: it is
  // retried whatever it is, never set aside.
  if (absl::Status applied = statuses_.ApplyMany(updates); !applied.ok()) {
    for (size_t i : applied_from) out[i] = kafka::Outcome::Retry(applied.ToString());
  }
  return out;
}

}  // namespace signpost::intake
