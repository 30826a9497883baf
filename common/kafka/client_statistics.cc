#include "common/kafka/client_statistics.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace signpost::kafka {

ClientStatistics::ClientStatistics(metrics::Registry& registry, const std::string& role)
    : requests_(registry.GetCounter("signpost_kafka_requests_total",
                                    "Requests sent to the Kafka brokers (librdkafka's statistics)",
                                    {{"client", role}})),
      request_bytes_(registry.GetCounter("signpost_kafka_request_bytes_total",
                                         "Bytes sent to the Kafka brokers (librdkafka's statistics)",
                                         {{"client", role}})),
      messages_(registry.GetCounter(
          "signpost_kafka_messages_total",
          "Messages produced (producer) or fetched (consumer) (librdkafka's statistics)",
          {{"client", role}})) {}

void ClientStatistics::Record(absl::string_view json) {
  auto parsed = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return;
  auto total = [&](const char* name) -> int64_t {
    auto it = parsed.find(name);
    return it != parsed.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
  };
  const int64_t requests = total("tx");
  const int64_t bytes = total("tx_bytes");
  const int64_t produced = total("txmsgs");
  const int64_t fetched = total("rxmsgs");
  if (requests < 0 || bytes < 0 || produced < 0 || fetched < 0) return;
  const int64_t messages = produced + fetched;  // one of them is 0: a client does one or the other
  absl::MutexLock lock(&mu_);
  // A total lower than the last seen is a new client's, counted from its start.
  auto increase = [](int64_t now, int64_t& last) {
    double by = static_cast<double>(now >= last ? now - last : now);
    last = now;
    return by;
  };
  requests_.Increment(increase(requests, last_requests_));
  request_bytes_.Increment(increase(bytes, last_bytes_));
  messages_.Increment(increase(messages, last_messages_));
}

void StatisticsEvents::event_cb(RdKafka::Event& event) {
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
    default:
      return;
  }
}

}  // namespace signpost::kafka
