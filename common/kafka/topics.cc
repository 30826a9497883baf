#include "common/kafka/topics.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signpost::kafka {
namespace {

constexpr std::array kTopics = {
#define SIGNPOST_TOPIC(id, name, partitions, cleanup, retention_ms, carries_events) \
  TopicSpec{Topic::id, name, partitions, cleanup, retention_ms, carries_events},
#include "signpost_topics.inc"
#undef SIGNPOST_TOPIC
};

}  // namespace

std::span<const TopicSpec> AllTopics() { return kTopics; }

const TopicSpec& SpecOf(Topic topic) { return kTopics[static_cast<size_t>(topic)]; }

std::string TopicName(Topic topic, absl::string_view prefix) {
  return absl::StrCat(prefix, SpecOf(topic).name);
}

std::optional<Topic> TopicFromName(absl::string_view full_name, absl::string_view prefix) {
  if (!absl::StartsWith(full_name, prefix)) return std::nullopt;
  full_name.remove_prefix(prefix.size());
  for (const auto& spec : kTopics) {
    if (spec.name == full_name) return spec.topic;
  }
  return std::nullopt;
}

}  // namespace signpost::kafka
