#pragma once

#include <functional>

#include "absl/time/time.h"

namespace signpost::followup {

// How long an ended case (closed, declined, unable to contact, withdrawn, expired) stays in Redis,
// and how long its tombstone then says it once was. Redis holds live work, not history: a case's
// final state, its closure and the referrer's feedback are on the topics when it ends.
struct CaseRetention {
  // After its last change, the one that ended it or a later one (--closed-case-retention-days).
  // 30 days: the link worker can still open the case for the month after it ends (writing up,
  // a referrer's question about it, a re-referral to compare with); past that it is history, and
  // at England's volume (some 3,600 cases ending a day) 30 days keep about 110,000 ended cases
  // beside the 325,000 open ones.
  absl::Duration closed = absl::Hours(24) * 30;
  // After the case left, GetCase answers FAILED_PRECONDITION "no longer held" rather than
  // NOT_FOUND, and its events read again (a topic replayed) do not open it anew, for this long
  // (--closed-case-tombstone-days); then the id is forgotten. 365 days: with the 30 days before,
  // longer than the lifecycle topics keep a referral's events (about 13 months), so a topic read
  // again from its start finds every removed case still known; a tombstone is one entry of a
  // sorted set (tools/bench retention measures it).
  absl::Duration tombstone = absl::Hours(24) * 365;
  // The service's clock (shifted by --clock-offset-file in drills and tests), not Redis's, which
  // nothing can move; so removal is a sweep by this clock, not a Redis TTL.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

}  // namespace signpost::followup
