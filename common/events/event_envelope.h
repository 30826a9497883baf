#pragma once

// An event's envelope: ids, traceparents, type names and Seal. Pure (no Kafka, no I/O), so the
// services' rules libraries can stamp the events they decide on; common/events/event_factory.h
// adds the Kafka message conversions on top.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signpost/v1/events.pb.h"

namespace signpost::events {

// The schema version every payload is written with today.
inline constexpr int kSchemaVersion = 1;
inline constexpr absl::string_view kProtobufEventContentType =
    "application/x-protobuf; type=signpost.v1.Event";

// UUID v4 text, e.g. "3f0c2a9e-...".
std::string NewEventId();

// A UUID-shaped id derived from a name (SHA-256, version 8 "custom" UUID): the same name gives
// the same id, so an event republished after a lost acknowledgement or a redelivery keeps its
// id and consumers recognise it. Use names such as "referral.received:<referral id>".
std::string NameBasedEventId(absl::string_view name);

// A W3C traceparent for a new trace ("00-<trace id>-<span id>-01"), or a child span of
// `parent` when it is a valid traceparent.
std::string NewTraceparent(absl::string_view parent = "");

// A traceparent named by `name` (e.g. an event id), as NewTraceparent gives but with ids derived
// from the name (and `parent`): the same every time, so that an event made again (a redelivered
// input rejected again) carries the same trace and bytes.
std::string NameBasedTraceparent(absl::string_view name, absl::string_view parent = "");

// The event type name of a payload, e.g. "referral.received"; empty when no payload is set.
absl::string_view EventTypeName(const v1::Event& event);

// Fills the envelope: id, type (from the payload), schema version, referral id, time, producer,
// trace (a child of `parent_traceparent` when given) and causation.
void Seal(v1::Event& event, absl::string_view referral_id, absl::string_view producer,
          absl::Time now, absl::string_view parent_traceparent = "",
          absl::string_view causation_id = "");

}  // namespace signpost::events
