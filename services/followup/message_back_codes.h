#pragma once

// What the GP system records for each step of the message back: the step's exact name (Task
// businessStatus) and its code. Pure: a table, no I/O.

#include <string>

#include "signpost/v1/events.pb.h"
#include "signpost/v1/followup.pb.h"

namespace signpost::followup {

inline constexpr char kSnomedSystem[] = "http://snomed.info/sct";
inline constexpr char kMessageBackStepSystem[] = "urn:signpost:message-back-step";

struct MessageBackStep {
  std::string step;            // e.g. "accepted", "closed-declined"
  v1::MessageBackCoding code;  // SNOMED CT when verified, else kMessageBackStepSystem
};

// The step of a message back: its kind, and for a closing message the closure reason.
MessageBackStep StepOf(v1::FeedbackKind kind, v1::ClosureReason reason);

}  // namespace signpost::followup
