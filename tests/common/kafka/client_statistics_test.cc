// librdkafka's statistics as counters: what a benchmark reads to say what each referral costs
// Kafka in each service.
#include "common/kafka/client_statistics.h"

#include <gtest/gtest.h>

namespace signpost::kafka {
namespace {

double Value(metrics::Registry& registry, const std::string& name, const std::string& role) {
  return registry.GetCounter(name, "", {{"client", role}}).Value();
}

TEST(ClientStatisticsTest, CountsTheIncreaseOfEachClientsTotals) {
  metrics::Registry registry;
  ClientStatistics first(registry, "producer");
  ClientStatistics second(registry, "producer");
  first.Record(R"({"tx": 10, "tx_bytes": 1000, "txmsgs": 40, "rxmsgs": 0, "brokers": {}})");
  second.Record(R"({"tx": 3, "tx_bytes": 300, "txmsgs": 5, "rxmsgs": 0})");
  first.Record(R"({"tx": 12, "tx_bytes": 1500, "txmsgs": 50, "rxmsgs": 0})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "producer"), 15);
  EXPECT_EQ(Value(registry, "signpost_kafka_request_bytes_total", "producer"), 1800);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "producer"), 55);
}

TEST(ClientStatisticsTest, AReplacedClientIsCountedFromItsStart) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "producer");
  statistics.Record(R"({"tx": 100, "tx_bytes": 9000, "txmsgs": 400, "rxmsgs": 0})");
  // The producer was replaced after a fatal error: its totals start again.
  statistics.Record(R"({"tx": 4, "tx_bytes": 200, "txmsgs": 6, "rxmsgs": 0})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "producer"), 104);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "producer"), 406);
}

TEST(ClientStatisticsTest, AConsumerCountsTheMessagesItFetched) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "consumer");
  statistics.Record(R"({"tx": 7, "tx_bytes": 700, "txmsgs": 0, "rxmsgs": 30})");
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "consumer"), 30);
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 7);
}

TEST(ClientStatisticsTest, AReportThatCannotBeReadChangesNothing) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "consumer");
  statistics.Record(R"({"tx": 7, "tx_bytes": 700, "txmsgs": 0, "rxmsgs": 30})");
  statistics.Record("not json");
  statistics.Record(R"({"tx": "many"})");
  statistics.Record(R"([1, 2])");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 7);
  statistics.Record(R"({"tx": 9, "tx_bytes": 900, "txmsgs": 0, "rxmsgs": 31})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 9);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "consumer"), 31);
}

}  // namespace
}  // namespace signpost::kafka
