#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace signpost::kafka {

struct TopicAdminOptions {
  std::string bootstrap;
  std::string prefix;
  int replication_factor = 1;
  int min_insync_replicas = 1;
  absl::Duration timeout = absl::Seconds(30);
  std::map<std::string, std::string> properties;  // client settings (security, ...)
};

// Creates every Signpost topic (with the prefix) through the Admin API with its partition count
// and policies; topics that exist already are left as they are.
absl::Status EnsureSignpostTopics(const TopicAdminOptions& options);

}  // namespace signpost::kafka
