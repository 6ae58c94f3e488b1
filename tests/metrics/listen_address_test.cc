#include "metrics/listen_address.h"

#include <gtest/gtest.h>

namespace topod::metrics {
namespace {

TEST(ListenAddressTest, ParsesIpLiterals) {
  auto v4 = parseListenAddress("127.0.0.1:9412");
  ASSERT_TRUE(v4.has_value()) << v4.error().toString();
  EXPECT_EQ(*v4, (ListenAddress{.host = "127.0.0.1", .ipv6 = false, .port = 9412}));
  auto any = parseListenAddress("0.0.0.0:0");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->port, 0);
  auto v6 = parseListenAddress("[0:0::1]:65535");
  ASSERT_TRUE(v6.has_value()) << v6.error().toString();
  EXPECT_EQ(*v6, (ListenAddress{.host = "::1", .ipv6 = true, .port = 65535}));
  EXPECT_EQ(v6->toString(), "[::1]:65535");
}

TEST(ListenAddressTest, RefusesWhatIsNotHostColonPort) {
  struct Row {
    const char* text;
    const char* why;
  };
  for (const Row& row :
       {Row{"", "expected host:port"}, Row{"127.0.0.1", "expected host:port"}, Row{"127.0.0.1:", "port"},
        Row{"127.0.0.1:65536", "port"}, Row{"127.0.0.1:-1", "port"}, Row{"127.0.0.1:+80", "port"},
        Row{"127.0.0.1:123456", "port"}, Row{":9412", "no host"}, Row{"localhost:9412", "names are not resolved"},
        Row{"::1:9412", "in brackets"}, Row{"[::1:9412", "brackets"}, Row{"[127.0.0.1]:9412", "not an IPv6"},
        Row{"[]:9412", "no host"}, Row{"1.2.3.4.5:80", "not an IPv4"}}) {
    auto parsed = parseListenAddress(row.text);
    ASSERT_FALSE(parsed.has_value()) << row.text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(parsed.error().message().find(row.why), std::string::npos)
        << row.text << ": " << parsed.error().message();
  }
}

}  // namespace
}  // namespace topod::metrics
