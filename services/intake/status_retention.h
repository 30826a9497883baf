#pragma once

#include <functional>

#include "absl/time/time.h"

namespace signpost::intake {

// How long intake's status view of a referral (what GetReferral reads) is held, and how long its
// tombstone then says it once was. Redis holds live work, not history: every status event is on
// the topics, so a view expired here is lost to GetReferral only.
struct StatusRetention {
  // After the view reached a final state: closed, withdrawn or rejected (--status-retention-days).
  // A view of a referral still open never expires, however long it goes unchanged (a case idle
  // past its check-ins), so its closure is shown when it comes. 180 days: a closed referral stays
  // answerable for about six months after it closed, longer than a referrer chases one in
  // practice.
  absl::Duration status = absl::Hours(24) * 180;
  // After the view expired, GetReferral answers FAILED_PRECONDITION "no longer held" rather than
  // NOT_FOUND for this long (--status-tombstone-days), then forgets the id. 365 days: a year
  // covers the ordinary enquiries about an old referral, and with the 180 days before it outlasts
  // the submission's de-duplication entry (400 days from submission), so a source referral id
  // that still finds its referral id never meets NOT_FOUND; a tombstone is a few hundred bytes
  // (tools/bench retention measures it).
  absl::Duration tombstone = absl::Hours(24) * 365;
  // The clock expiry is measured by: the service's (shifted by --clock-offset-file in drills and
  // tests), not Redis's, which nothing can move; so expiry is a sweep, not a Redis TTL.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

}  // namespace signpost::intake
