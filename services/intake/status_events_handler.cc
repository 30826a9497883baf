#include "services/intake/status_events_handler.h"

#include "common/events/event_factory.h"

namespace signpost::intake {

std::vector<kafka::Outcome> StatusEventsHandler::Handle(
    std::span<const kafka::ConsumedMessage> batch) {
  std::vector<kafka::Outcome> out;
  out.reserve(batch.size());
  for (const auto& message : batch) {
    if (!out.empty() && out.back().kind == kafka::Outcome::Kind::kRetry) {
      out.push_back(out.back());
      continue;
    }
    auto event = events::ParseEvent(message);
    if (!event.ok()) {
      out.push_back(kafka::Outcome::DeadLetter(std::string(event.status().message())));
      continue;
    }
    auto update = ProjectStatus(*event);
    if (!update || event->envelope().referral_id().empty()) {
      out.push_back(kafka::Outcome::Done());
      continue;
    }
    absl::Status applied = statuses_.Apply(event->envelope().referral_id(), *update);
    out.push_back(applied.ok() ? kafka::Outcome::Done()
                               : kafka::Outcome::Retry(std::string(applied.message())));
  }
  return out;
}

}  // namespace signpost::intake
