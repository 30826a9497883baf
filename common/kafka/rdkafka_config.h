#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace signpost::kafka {

using Settings = std::map<std::string, std::string>;

// A librdkafka configuration: `defaults`, with `overrides` (a deployment's extra settings, e.g.
// security) on top. INVALID_ARGUMENT naming the setting librdkafka refuses; `what` says whose.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(Settings defaults,
                                                        const Settings& overrides,
                                                        absl::string_view what);

// A consumer made from such settings (it joins no group until it subscribes), with `events` as
// its event callback when given (it must outlive the consumer).
absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    Settings defaults, const Settings& overrides, absl::string_view what,
    RdKafka::EventCb* events = nullptr);

}  // namespace signpost::kafka
