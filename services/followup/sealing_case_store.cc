#include "services/followup/sealing_case_store.h"

namespace signpost::followup {

absl::Status SealingCaseStore::Commit(const CaseChange& change) {
  return std::move(CommitMany({change}).front());
}

std::vector<absl::Status> SealingCaseStore::CommitMany(const std::vector<CaseChange>& changes) {
  std::vector<absl::Status> out(changes.size());
  std::vector<CaseChange> sealed;
  std::vector<size_t> sealed_at;  // the change each sealed one came from
  sealed.reserve(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    CaseChange change = changes[i];
    out[i] = seal_.Seal(change.after);
    if (!out[i].ok()) continue;
    sealed.push_back(std::move(change));
    sealed_at.push_back(i);
  }
  if (sealed.empty()) return out;
  std::vector<absl::Status> committed = sealed_.CommitMany(sealed);
  for (size_t k = 0; k < committed.size() && k < sealed_at.size(); ++k) {
    out[sealed_at[k]] = std::move(committed[k]);
  }
  return out;
}

}  // namespace signpost::followup
