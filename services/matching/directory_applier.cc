#include "services/matching/directory_applier.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/retry_policy.h"
#include "common/status/field_violations.h"
#include "services/matching/resource_validation.h"

namespace signpost::matching {

absl::StatusOr<std::optional<v1::Event>> ReadDirectoryRecord(
    const kafka::ConsumedMessage& message) {
  if (!message.value) return std::nullopt;
  auto event = events::ParseEvent(message);
  if (!event.ok()) return event.status();
  // The checks of the directory's write path (DirectoryService): a record written to the topic
  // some other way that fails them could fail in the cache's scripts (GEOADD refuses a latitude
  // beyond 85.05) and hold every follower on it, so it is poison too.
  std::vector<FieldViolation> violations;
  switch (event->payload_case()) {
    case v1::Event::kResourceUpserted:
      violations = ValidateResource(event->resource_upserted().resource());
      break;
    case v1::Event::kLinkWorkerUpserted:
      violations = ValidateLinkWorker(event->link_worker_upserted().link_worker());
      break;
    case v1::Event::kNetworkUpserted:
      violations = ValidateNetwork(event->network_upserted().network());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected ", event->envelope().type(), " on the directory topic"));
  }
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  return *std::move(event);
}

kafka::Outcome CheckDirectoryRecord(const kafka::ConsumedMessage& message) {
  return kafka::OutcomeOf(ReadDirectoryRecord(message).status());
}

absl::Status ApplyDirectoryRecord(const kafka::ConsumedMessage& message, DirectoryIndex& cache,
                                  Roster& roster, const std::string& load_generation) {
  auto record = ReadDirectoryRecord(message);
  if (!record.ok()) return record.status();
  if (!record->has_value()) {
    if (absl::StartsWith(message.key, "link-worker:") ||
        absl::StartsWith(message.key, "network:")) {
      return absl::OkStatus();  // roster entries are retired by marking them unavailable
    }
    return cache.RemoveResource(message.key, load_generation);
  }
  const v1::Event* event = &**record;
  switch (event->payload_case()) {
    case v1::Event::kResourceUpserted:
      return cache.PutResource(event->resource_upserted().resource(), load_generation);
    case v1::Event::kLinkWorkerUpserted:
      return roster.PutLinkWorker(event->link_worker_upserted().link_worker());
    case v1::Event::kNetworkUpserted:
      return roster.PutNetwork(event->network_upserted().network());
    default:
      return absl::InternalError("ReadDirectoryRecord let another payload through");
  }
}

}  // namespace signpost::matching
