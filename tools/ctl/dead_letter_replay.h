#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/message.h"
#include "common/kafka/producer.h"

namespace signpost::ctl {

struct ReplayOptions {
  std::string bootstrap;
  std::string prefix;  // the deployment's topic prefix
  std::map<std::string, std::string> properties;
  std::string group = "signpostctl-dlq-replay";  // remembers what was replayed (prefixed)
  std::string source_topic;  // only letters from this topic (name without prefix); "" all
  std::string reason;        // only letters whose reason contains this; "" all
  bool dry_run = false;
  absl::Duration idle = absl::Seconds(3);  // done when nothing new arrives for this long
};

struct ReplayResult {
  int replayed = 0;
  int held_back = 0;  // left for a later replay (filtered out, or behind one that was)
};

// Re-publishes dead letters to the topic they came from, once the cause is fixed: the original
// key, value and headers (the dlq-* ones replaced by dlq-replayed-from), in order. The replay
// group's committed offsets on the dead-letter topic remember what went back, so a letter is
// replayed once however often the command runs; a letter the filters leave behind holds back
// the later ones of its partition (offsets are positions). Each replayed letter is handed to
// `report`.
absl::StatusOr<ReplayResult> ReplayDeadLetters(
    const ReplayOptions& options, kafka::Producer& producer,
    const std::function<void(const kafka::ConsumedMessage&, bool replayed)>& report);

}  // namespace signpost::ctl
