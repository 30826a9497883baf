#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace signpost::intake {

// The intake keys in Redis, written once here; scripts receive them in KEYS.
//   signpost:intake:submission:<source system>|<source referral id>
//       hash {fp, rid, state, owner, lease_until, event}: one submission (redis_submission_store)
//   signpost:intake:status:<referral id>
//       hash {state, updated_ms, attributes, "h:<event id>": change}: the status view; once it
//       has expired, a tombstone hash {gone_ms, ods} in its place (status_retention.h)
//   signpost:intake:status-expiry
//       sorted set of referral ids by when their status view (or its tombstone) expires, in ms
//       on the service's clock
//   signpost:intake:history:<referral id>  list of changes (legacy: read, never written)
//   signpost:intake:events:<referral id>   set of applied event ids (legacy: read, never written)
namespace redis_keys {

// Validation keeps '|' out of source referral ids and source systems, so this is unambiguous.
inline std::string Submission(absl::string_view source_system,
                              absl::string_view source_referral_id) {
  return absl::StrCat("signpost:intake:submission:", source_system, "|", source_referral_id);
}
inline std::string Status(absl::string_view referral_id) {
  return absl::StrCat("signpost:intake:status:", referral_id);
}
inline std::string StatusExpiry() { return "signpost:intake:status-expiry"; }
inline std::string LegacyHistory(absl::string_view referral_id) {
  return absl::StrCat("signpost:intake:history:", referral_id);
}
inline std::string LegacyEvents(absl::string_view referral_id) {
  return absl::StrCat("signpost:intake:events:", referral_id);
}

}  // namespace redis_keys
}  // namespace signpost::intake
