#include "common/events/event_factory.h"

#include "absl/strings/str_cat.h"

namespace signpost::events {

kafka::OutgoingMessage ToMessage(const v1::Event& event, std::string topic, std::string key) {
  kafka::OutgoingMessage message;
  message.topic = std::move(topic);
  message.key = std::move(key);
  message.value = event.SerializeAsString();
  message.headers = {
      {std::string(kafka::kHeaderEventType), event.envelope().type()},
      {std::string(kafka::kHeaderSchemaVersion), std::to_string(event.envelope().schema_version())},
      {std::string(kafka::kHeaderTraceparent), event.envelope().trace().traceparent()},
      {std::string(kafka::kHeaderContentType), std::string(kProtobufEventContentType)},
  };
  return message;
}

absl::StatusOr<v1::Event> ParseEvent(const kafka::ConsumedMessage& message) {
  if (!message.value) return absl::InvalidArgumentError("tombstone where an event was expected");
  v1::Event event;
  if (!event.ParseFromString(*message.value)) {
    return absl::InvalidArgumentError("value is not a serialized signpost.v1.Event");
  }
  if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError("event has no payload (unknown type or empty)");
  }
  if (event.envelope().event_id().empty()) {
    return absl::InvalidArgumentError("event has no envelope.event_id");
  }
  if (event.envelope().schema_version() > kSchemaVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema version ", event.envelope().schema_version(),
                     " is newer than this service reads (", kSchemaVersion, ")"));
  }
  return event;
}

}  // namespace signpost::events
