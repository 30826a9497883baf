#include "common/metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::metrics {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, SameNameAndLabelsIsTheSameMetric) {
  Registry registry;
  Counter& a = registry.GetCounter("x_total", "help", {{"topic", "t"}});
  Counter& b = registry.GetCounter("x_total", "help", {{"topic", "t"}});
  Counter& c = registry.GetCounter("x_total", "help", {{"topic", "u"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(RegistryTest, RendersPrometheusText) {
  Registry registry;
  registry.GetCounter("signpost_events_total", "Events seen", {{"topic", "a\"b"}}).Increment(3);
  registry.GetGauge("signpost_lag", "Lag").Set(12.5);
  Histogram& h = registry.GetHistogram("signpost_latency_seconds", "Latency", {0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = registry.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE signpost_events_total counter\n"));
  EXPECT_THAT(text, HasSubstr("signpost_events_total{topic=\"a\\\"b\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE signpost_lag gauge\nsignpost_lag 12.5\n"));
  EXPECT_THAT(text, HasSubstr("signpost_latency_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("signpost_latency_seconds_bucket{le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("signpost_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("signpost_latency_seconds_sum 5.55\n"));
  EXPECT_THAT(text, HasSubstr("signpost_latency_seconds_count 3\n"));
}

TEST(HistogramTest, BoundaryValueFallsInItsBucket) {
  Histogram h({1.0, 2.0});
  h.Observe(1.0);
  auto snap = h.Take();
  EXPECT_EQ(snap.cumulative_counts[0], 1u);
  EXPECT_EQ(snap.count, 1u);
}

}  // namespace
}  // namespace signpost::metrics
