#include "services/matching/directory_applier.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/retry_policy.h"

namespace signpost::matching {

absl::StatusOr<std::optional<v1::Event>> ReadDirectoryRecord(
    const kafka::ConsumedMessage& message) {
  if (!message.value) return std::nullopt;
  auto event = events::ParseEvent(message);
  if (!event.ok()) return event.status();
  switch (event->payload_case()) {
    case v1::Event::kResourceUpserted:
    case v1::Event::kLinkWorkerUpserted:
    case v1::Event::kNetworkUpserted:
      return *std::move(event);
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected ", event->envelope().type(), " on the directory topic"));
  }
}

kafka::Outcome CheckDirectoryRecord(const kafka::ConsumedMessage& message) {
  return kafka::OutcomeOf(ReadDirectoryRecord(message).status());
}

absl::Status ApplyDirectoryRecord(const kafka::ConsumedMessage& message, DirectoryCache& cache) {
  auto record = ReadDirectoryRecord(message);
  if (!record.ok()) return record.status();
  if (!record->has_value()) {
    if (absl::StartsWith(message.key, "link-worker:") ||
        absl::StartsWith(message.key, "network:")) {
      return absl::OkStatus();  // roster entries are retired by marking them unavailable
    }
    return cache.RemoveResource(message.key);
  }
  const v1::Event* event = &**record;
  switch (event->payload_case()) {
    case v1::Event::kResourceUpserted:
      return cache.PutResource(event->resource_upserted().resource());
    case v1::Event::kLinkWorkerUpserted:
      return cache.PutLinkWorker(event->link_worker_upserted().link_worker());
    case v1::Event::kNetworkUpserted:
      return cache.PutNetwork(event->network_upserted().network());
    default:
      return absl::InternalError("ReadDirectoryRecord let another payload through");
  }
}

}  // namespace signpost::matching
