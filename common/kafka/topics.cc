#include "common/kafka/topics.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signpost::kafka {

std::span<const TopicSpec> AllTopics() { return kTopicTable; }

const TopicSpec& SpecOf(Topic topic) { return kTopicTable[static_cast<size_t>(topic)]; }

std::string TopicName(Topic topic, absl::string_view prefix) {
  return absl::StrCat(prefix, SpecOf(topic).name);
}

std::optional<Topic> TopicFromName(absl::string_view full_name, absl::string_view prefix) {
  if (!absl::StartsWith(full_name, prefix)) return std::nullopt;
  full_name.remove_prefix(prefix.size());
  for (const auto& spec : kTopicTable) {
    if (spec.name == full_name) return spec.topic;
  }
  return std::nullopt;
}

}  // namespace signpost::kafka
