#pragma once

#include <map>
#include <string>
#include <vector>

#include "signpost/v1/link_worker.pb.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::matching {

struct Assignment {
  std::string link_worker_id;  // empty: the network's team queue (or the unrouted queue)
  std::string network_id;
  std::vector<std::string> reasons;
};

// Who may take a referral, best first: tiers of link workers, each with its caseload cap (0: no
// cap), ordered by id. The referral goes to the first tier where someone has room, to the one
// there with the lowest open caseload, the earlier on a tie. Pure.
//
// The assignment rule lives here only. Redis does not choose: the match read
// (locate_candidates_and_team.lua) returns the team and its caseloads, AssignLinkWorker chooses on
// them, and record_match.lua records that choice only while the roster stamp and the worker's
// caseload are as read and the worker is under their maximum; else the referral is read and
// decided again (MatchOnce). So the choice is the C++ rule's, and it is atomic where the caseloads
// are.
struct AssignmentTier {
  std::vector<std::pair<std::string, int>> workers;  // id, maximum active cases
  bool shares_language = false;  // they speak the person's language (not English)
};
std::vector<AssignmentTier> AssignmentTiers(const v1::PersonProfile& person,
                                            const std::string& network_id,
                                            const std::vector<v1::LinkWorker>& workers);

// Pure. Within the network that serves the referring practice: prefer a link worker who speaks
// the person's language (when it is not English), then the lowest open caseload, then the id.
// Workers who are unavailable or at their maximum are skipped; when none has room the referral
// goes to the network's team queue, and the reasons say so. With no network (`network_id`
// empty): UnroutedAssignment("").
Assignment AssignLinkWorker(const v1::PersonProfile& person, const std::string& network_id,
                            const std::vector<v1::LinkWorker>& workers,
                            const std::map<std::string, int>& caseloads);

// Pure. A referral from a practice no network lists: no link worker, the regional unrouted queue
// (events::kUnroutedNetworkId), and a reason naming the practice (when known) for the coordinator
// who routes it.
Assignment UnroutedAssignment(const std::string& practice_ods_code);

}  // namespace signpost::matching
