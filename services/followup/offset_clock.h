#pragma once

// The clock follow-up's drills and tests shift; shared with intake.
#include "common/process/offset_clock.h"

namespace signpost::followup {
using ::signpost::OffsetClock;
}  // namespace signpost::followup
