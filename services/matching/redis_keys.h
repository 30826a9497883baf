#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace signpost::matching::keys {

// Matching's keys in Redis, written once: the C++ builds every key and passes it to the scripts
// in KEYS (the scripts spell none). Three groups:
//
// The directory cache, rebuilt from the directory topic (ClearUnlessLoaded removes every
// signpost:dir:* key but the fence's generation):
//   signpost:dir:resource:<id>   Resource bytes
//   signpost:dir:entries:<id>    set of the resource's index entries ("g|r\t<index key>\t<member>")
//   signpost:dir:version:<id>    "<seconds> <nanos>" of the cached record's updated_at
//   signpost:dir:stamp:<id>      the stamp of the cached record ("<epoch>.<count>")
//   signpost:dir:geo:<need>      geo index of physical locations, members "<id>|<location>|<stamp>"
//   signpost:dir:remote:<need>   sorted set of remote resources by quality, members "<id>|<stamp>"
//   signpost:dir:stamps, signpost:dir:epoch        the stamp counter and the epoch it counts from
//   signpost:dir:loaded          the layout version of a complete cache
//   signpost:dir:generation      the cache's generation ("<count>:<server time>"), moved by a clear
//   signpost:dir:clearing        the clear under way (its generation)
//   signpost:postcode:<code>     hash {lat, lon, lsoa, imd} of a postcode or a district
// The roster and caseloads (not cache: a clear keeps them):
//   signpost:roster:worker:<id>             LinkWorker bytes
//   signpost:roster:practice:<ods>          the network serving a practice
//   signpost:roster:network-workers:<id>    set of a network's worker ids
//   signpost:roster:caseload:<worker>       the worker's open cases
//   signpost:roster:assignment:<referral>   the referral's worker ("" for the team queue)
//   signpost:roster:released:<referral>     set once its case ended
//   signpost:roster:match:<referral>        list of its events as first recorded
//   signpost:roster:stamp, signpost:roster:stamps  the roster's stamp and its counter
// The places taken:
//   signpost:places:reservations:<resource> set of referrals holding a place there

inline constexpr char kDirectoryPattern[] = "signpost:dir:*";
inline constexpr char kLoaded[] = "signpost:dir:loaded";
inline constexpr char kGeneration[] = "signpost:dir:generation";
inline constexpr char kClearing[] = "signpost:dir:clearing";
inline constexpr char kStampCounter[] = "signpost:dir:stamps";
inline constexpr char kStampEpoch[] = "signpost:dir:epoch";

inline std::string Resource(const std::string& id) {
  return absl::StrCat("signpost:dir:resource:", id);
}
inline std::string Entries(const std::string& id) {
  return absl::StrCat("signpost:dir:entries:", id);
}
inline std::string Version(const std::string& id) {
  return absl::StrCat("signpost:dir:version:", id);
}
inline std::string Stamp(const std::string& id) { return absl::StrCat("signpost:dir:stamp:", id); }
inline std::string Geo(int need) { return absl::StrCat("signpost:dir:geo:", need); }
inline std::string Remote(int need) { return absl::StrCat("signpost:dir:remote:", need); }
inline std::string Postcode(const std::string& code) {
  return absl::StrCat("signpost:postcode:", code);
}

inline constexpr char kRosterStamp[] = "signpost:roster:stamp";
inline constexpr char kRosterStampCounter[] = "signpost:roster:stamps";
inline std::string Worker(const std::string& id) {
  return absl::StrCat("signpost:roster:worker:", id);
}
inline std::string Practice(const std::string& ods) {
  return absl::StrCat("signpost:roster:practice:", ods);
}
inline std::string NetworkWorkers(const std::string& network) {
  return absl::StrCat("signpost:roster:network-workers:", network);
}
inline std::string Caseload(const std::string& worker) {
  return absl::StrCat("signpost:roster:caseload:", worker);
}
inline std::string Assignment(const std::string& referral) {
  return absl::StrCat("signpost:roster:assignment:", referral);
}
inline std::string Released(const std::string& referral) {
  return absl::StrCat("signpost:roster:released:", referral);
}
inline std::string MatchRecord(const std::string& referral) {
  return absl::StrCat("signpost:roster:match:", referral);
}

inline std::string Reservations(const std::string& resource) {
  return absl::StrCat("signpost:places:reservations:", resource);
}

}  // namespace signpost::matching::keys
