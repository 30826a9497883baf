#include "services/monitor/monitor.h"

#include "common/events/event_factory.h"

namespace signpost::monitor {

Monitor::Monitor(std::string topic_prefix, EquityOptions equity, absl::Duration look_back)
    : flows_(std::move(topic_prefix), /*latest_dead_letters=*/20, look_back), equity_(equity) {}

void Monitor::Observe(const kafka::ConsumedMessage& message) {
  // Everything but the dead-letter topic carries Events (the submitted topic may carry FHIR or
  // bytes that are not one: then only its rate counts).
  auto event = events::ParseEvent(message);
  const v1::Event* parsed =
      event.ok() && !kafka::FindHeader(message.headers, kafka::kHeaderDeadLetterReason) ? &*event
                                                                                        : nullptr;
  flows_.Observe(message, parsed);
  if (parsed == nullptr) return;
  stages_.Observe(*parsed);
  gaps_.Observe(*parsed);
  equity_.Observe(*parsed);
}

v1::FlowSnapshot Monitor::Snapshot(absl::Time now) const {
  v1::FlowSnapshot snapshot = flows_.Snapshot(now);
  for (auto& stage : stages_.Snapshot()) *snapshot.add_stages() = std::move(stage);
  return snapshot;
}

absl::StatusOr<v1::GapReport> Monitor::GapReport(const v1::GapReportRequest& request,
                                                 absl::Time now) const {
  return gaps_.Report(request, absl::ToCivilDay(now, absl::UTCTimeZone()));
}

}  // namespace signpost::monitor
