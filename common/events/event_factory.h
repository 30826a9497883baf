#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/events/event_envelope.h"  // IWYU pragma: export
#include "common/kafka/message.h"
#include "signpost/v1/events.pb.h"

namespace signpost::events {

// The envelope (NewEventId, Seal, kSchemaVersion, ...) is common/events/event_envelope.h,
// included above so that every caller of this header keeps it.

// A Kafka message for an event: the value is the serialized Event; headers carry the type,
// schema version, traceparent and content type.
kafka::OutgoingMessage ToMessage(const v1::Event& event, std::string topic, std::string key);

// Parses a consumed Event; INVALID_ARGUMENT with the reason when the bytes are not one (a poison
// message for the dead-letter topic).
absl::StatusOr<v1::Event> ParseEvent(const kafka::ConsumedMessage& message);

}  // namespace signpost::events
