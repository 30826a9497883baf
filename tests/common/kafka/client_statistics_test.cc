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
  first.Record(
      R"({"name": "p#1", "tx": 10, "tx_bytes": 1000, "txmsgs": 40, "rxmsgs": 0, "brokers": {}})");
  second.Record(R"({"name": "p#2", "tx": 3, "tx_bytes": 300, "txmsgs": 5, "rxmsgs": 0})");
  first.Record(R"({"name": "p#1", "tx": 12, "tx_bytes": 1500, "txmsgs": 50, "rxmsgs": 0})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "producer"), 15);
  EXPECT_EQ(Value(registry, "signpost_kafka_request_bytes_total", "producer"), 1800);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "producer"), 55);
}

TEST(ClientStatisticsTest, AReplacedProducerCountsOnceWhileItsOldHandleStillReports) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "producer");
  statistics.Record(R"({"name": "p#1", "tx": 100, "tx_bytes": 9000, "txmsgs": 400, "rxmsgs": 0})");
  // Replaced after a fatal error: the new handle's totals start again, and the old one reports
  // once more while it flushes.
  statistics.Record(R"({"name": "p#2", "tx": 4, "tx_bytes": 200, "txmsgs": 6, "rxmsgs": 0})");
  statistics.Record(R"({"name": "p#1", "tx": 101, "tx_bytes": 9100, "txmsgs": 401, "rxmsgs": 0})");
  statistics.Record(R"({"name": "p#2", "tx": 6, "tx_bytes": 300, "txmsgs": 9, "rxmsgs": 0})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "producer"), 107);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "producer"), 410);
}

TEST(ClientStatisticsTest, AConsumerCountsTheMessagesItFetched) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "consumer");
  statistics.Record(R"({"name": "c#1", "tx": 7, "tx_bytes": 700, "txmsgs": 0, "rxmsgs": 30})");
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "consumer"), 30);
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 7);
}

TEST(ClientStatisticsTest, AReportThatCannotBeReadChangesNothing) {
  metrics::Registry registry;
  ClientStatistics statistics(registry, "consumer");
  statistics.Record(R"({"name": "c#1", "tx": 7, "tx_bytes": 700, "txmsgs": 0, "rxmsgs": 30})");
  statistics.Record("not json");
  statistics.Record(R"({"name": "c#1", "tx": "many"})");
  statistics.Record(R"({"tx": 70, "tx_bytes": 700, "txmsgs": 0, "rxmsgs": 30})");
  statistics.Record(R"([1, 2])");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 7);
  statistics.Record(R"({"name": "c#1", "tx": 9, "tx_bytes": 900, "txmsgs": 0, "rxmsgs": 31})");
  EXPECT_EQ(Value(registry, "signpost_kafka_requests_total", "consumer"), 9);
  EXPECT_EQ(Value(registry, "signpost_kafka_messages_total", "consumer"), 31);
}

}  // namespace
}  // namespace signpost::kafka
