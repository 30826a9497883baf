#include "services/matching/directory_applier.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"

namespace signpost::matching {

absl::Status ApplyDirectoryRecord(const kafka::ConsumedMessage& message, DirectoryCache& cache) {
  if (!message.value) {
    if (absl::StartsWith(message.key, "link-worker:") ||
        absl::StartsWith(message.key, "network:")) {
      return absl::OkStatus();  // roster entries are retired by marking them unavailable
    }
    return cache.RemoveResource(message.key);
  }
  auto event = events::ParseEvent(message);
  if (!event.ok()) return event.status();
  switch (event->payload_case()) {
    case v1::Event::kResourceUpserted:
      return cache.PutResource(event->resource_upserted().resource());
    case v1::Event::kLinkWorkerUpserted:
      return cache.PutLinkWorker(event->link_worker_upserted().link_worker());
    case v1::Event::kNetworkUpserted:
      return cache.PutNetwork(event->network_upserted().network());
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected ", event->envelope().type(), " on the directory topic"));
  }
}

}  // namespace signpost::matching
