#include "common/kafka/rdkafka_config.h"

#include "absl/strings/str_cat.h"

namespace signpost::kafka {

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(Settings defaults,
                                                        const Settings& overrides,
                                                        absl::string_view what) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : overrides) defaults[k] = v;
  std::string err;
  for (const auto& [k, v] : defaults) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat(what, " setting ", k, ": ", err));
    }
  }
  return conf;
}

absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(Settings defaults,
                                                                     const Settings& overrides,
                                                                     absl::string_view what,
                                                                     RdKafka::EventCb* events) {
  auto conf = MakeConf(std::move(defaults), overrides, what);
  if (!conf.ok()) return conf.status();
  std::string err;
  if (events && (*conf)->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat(what, " event callback: ", err));
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) return absl::InvalidArgumentError(absl::StrCat(what, ": ", err));
  return consumer;
}

}  // namespace signpost::kafka
