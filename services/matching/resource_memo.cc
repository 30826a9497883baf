#include "services/matching/resource_memo.h"

namespace signpost::matching {

std::shared_ptr<const v1::Resource> ResourceMemo::Find(absl::string_view id,
                                                       absl::string_view stamp) {
  absl::MutexLock lock(&mu_);
  return FindLocked(id, stamp);
}

std::vector<std::shared_ptr<const v1::Resource>> ResourceMemo::FindMany(
    const std::vector<std::pair<absl::string_view, absl::string_view>>& wanted) {
  std::vector<std::shared_ptr<const v1::Resource>> out;
  out.reserve(wanted.size());
  absl::MutexLock lock(&mu_);
  for (const auto& [id, stamp] : wanted) newer_.prefetch(id);
  // Then what each entry points to: its stamp and its record (with the record's use count).
  for (const auto& [id, stamp] : wanted) {
    if (auto it = newer_.find(id); it != newer_.end()) {
      __builtin_prefetch(it->second.stamp.data());
      __builtin_prefetch(it->second.resource.get());
    }
  }
  for (const auto& [id, stamp] : wanted) out.push_back(FindLocked(id, stamp));
  return out;
}

std::shared_ptr<const v1::Resource> ResourceMemo::FindLocked(absl::string_view id,
                                                             absl::string_view stamp) {
  if (stamp.empty()) return nullptr;
  if (auto it = newer_.find(id); it != newer_.end()) {
    return it->second.stamp == stamp ? it->second.resource : nullptr;
  }
  auto it = older_.find(id);
  if (it == older_.end() || it->second.stamp != stamp) return nullptr;
  std::string key = it->first;
  Entry entry = std::move(it->second);
  older_.erase(it);
  std::shared_ptr<const v1::Resource> found = entry.resource;
  PutLocked(std::move(key), std::move(entry));  // in use: keep it with the newer half
  return found;
}

void ResourceMemo::Put(const std::string& id, const std::string& stamp,
                       std::shared_ptr<const v1::Resource> resource) {
  if (stamp.empty()) return;
  absl::MutexLock lock(&mu_);
  older_.erase(id);
  PutLocked(id, {stamp, std::move(resource)});
}

void ResourceMemo::PutLocked(std::string id, Entry entry) {
  if (newer_.size() >= keep_ && !newer_.contains(id)) {
    older_ = std::move(newer_);
    newer_.clear();
    newer_.reserve(keep_);
  }
  newer_.insert_or_assign(std::move(id), std::move(entry));
}

}  // namespace signpost::matching
