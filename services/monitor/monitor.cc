#include "services/monitor/monitor.h"

#include "common/events/event_factory.h"
#include "common/kafka/topics.h"

namespace signpost::monitor {

Monitor::Monitor(std::string topic_prefix, EquityOptions equity, absl::Duration look_back,
                 std::function<absl::Time()> clock)
    : topic_prefix_(topic_prefix),
      look_back_(look_back),
      clock_(std::move(clock)),
      counted_from_(clock_() - look_back),
      flows_(std::move(topic_prefix), /*latest_dead_letters=*/20, look_back),
      equity_(equity),
      provision_(ProvisionOptions{.suppress_below = equity.suppress_below,
                                  .referrals = equity.referrals,
                                  .look_back = look_back}) {}

void Monitor::Observe(const kafka::ConsumedMessage& message) {
  // Each topic is read by what it carries (topics.tsv): submissions (protobuf or FHIR JSON) and
  // dead letters (any bytes) are never parsed as events, where protobuf would take their bytes
  // for an event's fields and complain of invalid UTF-8; only their rate and headers count.
  absl::StatusOr<v1::Event> event = absl::InvalidArgumentError("not a topic of events");
  std::optional<kafka::Topic> topic = kafka::TopicFromName(message.topic, topic_prefix_);
  if (topic && kafka::SpecOf(*topic).carries_events) {
    event = events::ParseEvent(message);
  }
  // A tombstone on the directory topic deletes the record its key names.
  if (topic == kafka::Topic::kDirectoryResources && !message.value) provision_.Forget(message.key);
  const v1::Event* parsed = event.ok() ? &*event : nullptr;
  // Older than the look-back: the directory (read whole, as it is compacted: current however
  // old) and the matched and case events read further back say where provision is and whose
  // caseload each open case is in, and count for nothing else.
  if (absl::FromUnixMillis(message.timestamp_ms) < counted_from_) {
    if (parsed != nullptr) provision_.Observe(*parsed, /*within_look_back=*/false);
    return;
  }
  flows_.Observe(message, parsed);
  if (parsed == nullptr) return;
  stages_.Observe(*parsed);
  gaps_.Observe(*parsed);
  equity_.Observe(*parsed);
  provision_.Observe(*parsed);
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
