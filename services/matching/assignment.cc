#include "services/matching/assignment.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/events/unrouted.h"
#include "services/matching/ranking.h"

namespace signpost::matching {

namespace {

bool WantsLanguage(const v1::PersonProfile& person) {
  return !person.preferred_language().empty() && person.preferred_language() != "en";
}

}  // namespace

std::vector<AssignmentTier> AssignmentTiers(const v1::PersonProfile& person,
                                            const std::string& network_id,
                                            const std::vector<v1::LinkWorker>& workers) {
  // Speakers of the person's language first (when it is not English), then everyone else.
  AssignmentTier speakers, others;
  speakers.shares_language = true;
  const std::string& language = person.preferred_language();
  std::vector<const v1::LinkWorker*> sorted;
  for (const auto& w : workers) {
    if (w.network_id() == network_id && w.available()) sorted.push_back(&w);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::LinkWorker* a, const v1::LinkWorker* b) { return a->id() < b->id(); });
  for (const v1::LinkWorker* w : sorted) {
    bool speaks = WantsLanguage(person) && std::find(w->languages().begin(), w->languages().end(),
                                                     language) != w->languages().end();
    (speaks ? speakers : others).workers.emplace_back(w->id(), w->max_active_cases());
  }
  std::vector<AssignmentTier> tiers;
  for (AssignmentTier* tier : {&speakers, &others}) {
    if (!tier->workers.empty()) tiers.push_back(std::move(*tier));
  }
  return tiers;
}

Assignment AssignLinkWorker(const v1::PersonProfile& person, const std::string& network_id,
                            const std::vector<v1::LinkWorker>& workers,
                            const std::map<std::string, int>& caseloads) {
  if (network_id.empty()) return UnroutedAssignment("");
  Assignment out;
  out.network_id = network_id;
  const std::vector<AssignmentTier> tiers = AssignmentTiers(person, network_id, workers);
  for (size_t t = 0; t < tiers.size() && out.link_worker_id.empty(); ++t) {
    int best_load = 0;
    for (const auto& [id, max_cases] : tiers[t].workers) {
      auto it = caseloads.find(id);
      int load = it == caseloads.end() ? 0 : it->second;
      if (max_cases > 0 && load >= max_cases) continue;
      if (out.link_worker_id.empty() || load < best_load) {
        out.link_worker_id = id;
        best_load = load;
      }
    }
    if (out.link_worker_id.empty()) continue;
    const std::string& language = person.preferred_language();
    if (tiers[t].shares_language) {
      out.reasons.push_back(absl::StrCat("speaks ", LanguageName(language)));
    } else if (WantsLanguage(person)) {
      out.reasons.push_back(
          absl::StrCat("no link worker with room speaks ", LanguageName(language)));
    }
    out.reasons.push_back(absl::StrCat("lowest open caseload (", best_load, ")"));
  }
  if (out.link_worker_id.empty()) {
    out.reasons.push_back("every link worker in the network is at capacity: team queue");
  }
  return out;
}

Assignment UnroutedAssignment(const std::string& practice_ods_code) {
  Assignment out;
  out.network_id = events::kUnroutedNetworkId;
  out.reasons.push_back(
      practice_ods_code.empty()
          ? std::string("no network serves the referring practice")
          : absl::StrCat("no network serves the referring practice ", practice_ods_code));
  out.reasons.push_back("held on the unrouted queue for a coordinator to route");
  return out;
}

}  // namespace signpost::matching
