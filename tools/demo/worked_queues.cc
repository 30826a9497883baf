#include "tools/demo/worked_queues.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace signpost::demo {

absl::StatusOr<std::map<std::string, auth::Principal>> WorkedQueues(
    const region::Region& region, const std::string& leave_for_person) {
  std::map<std::string, auth::Principal> queues;
  for (const auto& w : region.link_workers) {
    queues[w.id()] = auth::QueueOwner(w.id(), w.network_id());
  }
  for (const auto& n : region.networks) {
    std::string team = absl::StrCat("team:", n.id());
    queues[team] = auth::QueueOwner(team, "", absl::StrCat("coordinator-", n.id()));
  }
  if (leave_for_person.empty()) return queues;
  if (queues.erase(leave_for_person) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--leave-for-person: the region has no queue '", leave_for_person,
                     "' (a link worker's id or team:<network>, as in the region's queues.txt)"));
  }
  return queues;
}

}  // namespace signpost::demo
