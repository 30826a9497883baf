#include "services/matching/assignment.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/matching/ranking.h"

namespace signpost::matching {

Assignment AssignLinkWorker(const v1::PersonProfile& person, const std::string& network_id,
                            const std::vector<v1::LinkWorker>& workers,
                            const std::map<std::string, int>& caseloads) {
  Assignment out;
  out.network_id = network_id;
  if (network_id.empty()) {
    out.reasons.push_back("no network serves the referring practice");
    return out;
  }
  const std::string& language = person.preferred_language();
  bool wants_language = !language.empty() && language != "en";
  const v1::LinkWorker* best = nullptr;
  std::tuple<bool, int, std::string> best_key;
  for (const auto& w : workers) {
    if (w.network_id() != network_id || !w.available()) continue;
    auto it = caseloads.find(w.id());
    int load = it == caseloads.end() ? 0 : it->second;
    if (w.max_active_cases() > 0 && load >= w.max_active_cases()) continue;
    bool speaks = wants_language && std::find(w.languages().begin(), w.languages().end(),
                                              language) != w.languages().end();
    // Smaller is better: speaking the language first, then load, then id.
    std::tuple<bool, int, std::string> key{!speaks, load, w.id()};
    if (!best || key < best_key) {
      best = &w;
      best_key = key;
    }
  }
  if (!best) {
    out.reasons.push_back("every link worker in the network is at capacity: team queue");
    return out;
  }
  out.link_worker_id = best->id();
  if (!std::get<0>(best_key)) {
    out.reasons.push_back(absl::StrCat("speaks ", LanguageName(language)));
  } else if (wants_language) {
    out.reasons.push_back(absl::StrCat("no link worker with room speaks ", LanguageName(language)));
  }
  out.reasons.push_back(absl::StrCat("lowest open caseload (", std::get<1>(best_key), ")"));
  return out;
}

}  // namespace signpost::matching
