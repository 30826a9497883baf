#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// Parsed directory records kept in process, each under the stamp Redis gave it when it was last
// written: a lookup with the current stamp returns the record without fetching or parsing it
// again; any other stamp misses. Bounded in two generations of `keep` records each: when the newer
// one fills up it becomes the older one and the oldest records are dropped, and a record found in
// the older one moves back to the newer. So any `keep` records in use stay (a directory no larger
// than `keep` is never fetched twice), the rest age out, and at most 2 x `keep` are held.
class ResourceMemo {
 public:
  explicit ResourceMemo(size_t keep = 100000) : keep_(keep) {}

  // Looked up without copying the id: matching looks up hundreds of index members per referral.
  std::shared_ptr<const v1::Resource> Find(absl::string_view id, absl::string_view stamp);
  // Many at once, as a search's hits are: one lock, and the table's slots fetched ahead of the
  // lookups (each is otherwise a cache miss). One result per (id, stamp), null where not held.
  std::vector<std::shared_ptr<const v1::Resource>> FindMany(
      const std::vector<std::pair<absl::string_view, absl::string_view>>& wanted);
  void Put(const std::string& id, const std::string& stamp,
           std::shared_ptr<const v1::Resource> resource);

 private:
  struct Entry {
    std::string stamp;
    std::shared_ptr<const v1::Resource> resource;
  };
  std::shared_ptr<const v1::Resource> FindLocked(absl::string_view id, absl::string_view stamp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutLocked(std::string id, Entry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  size_t keep_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> newer_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Entry> older_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::matching
