#include "common/metrics/http_endpoint.h"

#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

namespace signpost::metrics {
namespace {

using ::testing::HasSubstr;

TEST(HttpEndpointTest, ServesMetricsHealthAndReadiness) {
  Registry registry;
  registry.GetCounter("signpost_requests_total", "Requests").Increment();
  std::atomic<bool> ready{false};
  HttpEndpoint endpoint(registry, [&ready]() {
    return ready.load() ? absl::OkStatus() : absl::UnavailableError("kafka not reachable");
  });
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);

  httplib::Client client("127.0.0.1", *port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("signpost_requests_total 1"));
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("text/plain"));

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("kafka not reachable"));

  ready = true;
  auto now_ready = client.Get("/readyz");
  ASSERT_TRUE(now_ready);
  EXPECT_EQ(now_ready->status, 200);
  endpoint.Stop();
}

TEST(HttpEndpointTest, BadListenAddressIsAnError) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  EXPECT_EQ(endpoint.Start("nonsense").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signpost::metrics
