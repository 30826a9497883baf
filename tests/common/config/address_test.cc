#include "common/config/address.h"

#include <gtest/gtest.h>

namespace signpost {
namespace {

TEST(ParseHostPortTest, Accepts) {
  struct Case {
    const char* text;
    HostPort want;
  } cases[] = {
      {"127.0.0.1:9092", {"127.0.0.1", 9092}},
      {"kafka-1.internal:19092", {"kafka-1.internal", 19092}},
      {" localhost:6379 ", {"localhost", 6379}},
      {"[::1]:50051", {"::1", 50051}},
  };
  for (const auto& c : cases) {
    auto got = ParseHostPort(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseHostPortTest, Rejects) {
  for (const char* text : {"", "localhost", ":9092", "host:", "host:abc", "host:70000", "a:b:c",
                           "host:0", "[::1]9092"}) {
    EXPECT_FALSE(ParseHostPort(text).ok()) << text;
  }
}

TEST(ParseHostPortTest, PortZeroOnlyWhenAllowed) {
  EXPECT_FALSE(ParseHostPort("127.0.0.1:0").ok());
  auto got = ParseHostPort("127.0.0.1:0", /*allow_port_zero=*/true);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->port, 0);
}

TEST(ParseHostPortTest, IPv6RoundTrips) {
  auto got = ParseHostPort("[::1]:8080");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->ToString(), "[::1]:8080");
}

TEST(ParseHostPortListTest, SplitsOnCommas) {
  auto got = ParseHostPortList("a:1, b:2,c:3");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[1], (HostPort{"b", 2}));
  EXPECT_FALSE(ParseHostPortList("a:1,b").ok());
  EXPECT_FALSE(ParseHostPortList("").ok());
}

TEST(ParseRedisAddressTest, TcpAndUnix) {
  auto tcp = ParseRedisAddress("redis://10.0.0.5:6380");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->tcp, (HostPort{"10.0.0.5", 6380}));
  EXPECT_TRUE(tcp->unix_socket.empty());
  auto unix_socket = ParseRedisAddress("unix:/run/redis.sock");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_EQ(unix_socket->unix_socket, "/run/redis.sock");
  EXPECT_EQ(unix_socket->ToString(), "unix:/run/redis.sock");
  EXPECT_FALSE(ParseRedisAddress("unix:relative.sock").ok());
  EXPECT_FALSE(ParseRedisAddress("redis").ok());
}

}  // namespace
}  // namespace signpost
