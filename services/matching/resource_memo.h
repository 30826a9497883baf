#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "absl/synchronization/mutex.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// Parsed directory records kept in process, each under the stamp Redis gave it when it was last
// written: a lookup with the current stamp returns the record without fetching or parsing it
// again; any other stamp misses. Bounded: when the newer half fills up it becomes the older half
// and the oldest records are dropped, so records in use stay and the rest age out.
class ResourceMemo {
 public:
  explicit ResourceMemo(size_t capacity = 50000) : half_(capacity / 2 + 1) {}

  std::shared_ptr<const v1::Resource> Find(const std::string& id, const std::string& stamp);
  void Put(const std::string& id, const std::string& stamp,
           std::shared_ptr<const v1::Resource> resource);

 private:
  struct Entry {
    std::string stamp;
    std::shared_ptr<const v1::Resource> resource;
  };
  void PutLocked(const std::string& id, Entry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  size_t half_;
  absl::Mutex mu_;
  std::unordered_map<std::string, Entry> newer_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Entry> older_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::matching
