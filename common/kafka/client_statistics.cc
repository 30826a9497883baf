#include "common/kafka/client_statistics.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace signpost::kafka {

ClientStatistics::ClientStatistics(metrics::Registry& registry, const std::string& role)
    : requests_(registry.GetCounter("signpost_kafka_requests_total",
                                    "Requests sent to the Kafka brokers (librdkafka's statistics)",
                                    {{"client", role}})),
      request_bytes_(registry.GetCounter(
          "signpost_kafka_request_bytes_total",
          "Bytes sent to the Kafka brokers (librdkafka's statistics)", {{"client", role}})),
      messages_(registry.GetCounter(
          "signpost_kafka_messages_total",
          "Messages produced (producer) or fetched (consumer) (librdkafka's statistics)",
          {{"client", role}})) {}

void ClientStatistics::Record(absl::string_view json) {
  auto parsed =
      nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return;
  auto total = [&](const char* name) -> int64_t {
    auto it = parsed.find(name);
    return it != parsed.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
  };
  auto name = parsed.find("name");
  const int64_t produced = total("txmsgs");
  const int64_t fetched = total("rxmsgs");
  const Totals now{total("tx"), total("tx_bytes"), produced + fetched};  // one of them is 0
  if (name == parsed.end() || !name->is_string() || now.requests < 0 || now.bytes < 0 ||
      produced < 0 || fetched < 0) {
    return;
  }
  absl::MutexLock lock(&mu_);
  // A holder has one live handle, and a replaced one reports only while it is flushed: a few
  // names at most. Should there be more, the oldest are forgotten (a handle forgotten and still
  // live would count its totals again; none is).
  if (last_.size() >= 8 && !last_.contains(name->get<std::string>())) last_.clear();
  Totals& last = last_[name->get<std::string>()];
  auto increase = [](int64_t now, int64_t last) {
    return static_cast<double>(now >= last ? now - last : now);  // lower: the handle was remade
  };
  requests_.Increment(increase(now.requests, last.requests));
  request_bytes_.Increment(increase(now.bytes, last.bytes));
  messages_.Increment(increase(now.messages, last.messages));
  last = now;
}

ClientEvents::ClientEvents(metrics::Registry* registry, const std::string& role, std::string what)
    : what_(std::move(what)) {
  if (registry) statistics_.emplace(*registry, role);
}

std::string ClientEvents::StatisticsIntervalMs() const {
  return statistics_ ? std::to_string(kStatisticsIntervalMs) : "0";
}

absl::Status ClientEvents::SetOn(RdKafka::Conf& conf) {
  std::string err;
  if (conf.set("event_cb", static_cast<RdKafka::EventCb*>(this), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat(what_, " event callback: ", err));
  }
  return absl::OkStatus();
}

void ClientEvents::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_STATS:
      if (statistics_) statistics_->Record(event.str());
      return;
    case RdKafka::Event::EVENT_ERROR:
      if (event.fatal()) {
        spdlog::error("{}: fatal error: {}", what_, event.str());
      } else {
        spdlog::warn("{}: {}", what_, event.str());
      }
      return;
    case RdKafka::Event::EVENT_LOG:
      // librdkafka's syslog levels: 0-3 errors, 4 warnings, 5-6 notices and information. An
      // error comes as an error event too (logged above): its log line is a warning here.
      if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
        spdlog::warn("{}: {} {}", what_, event.fac(), event.str());
      } else if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_INFO) {
        spdlog::info("{}: {} {}", what_, event.fac(), event.str());
      } else {
        spdlog::debug("{}: {} {}", what_, event.fac(), event.str());
      }
      return;
    default:
      return;
  }
}

}  // namespace signpost::kafka
