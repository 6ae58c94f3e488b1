// ListenAddress: where the metrics server listens, written "host:port" as in Prometheus targets:
// an IPv4 literal ("127.0.0.1:9412", "0.0.0.0:9412") or a bracketed IPv6 literal ("[::1]:9412").
// Host names are refused: the address must not depend on name resolution at start-up, and a
// name would hide whether the port is reachable from off the node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::metrics {

struct ListenAddress {
  std::string host;  // the literal, without brackets
  bool ipv6 = false;
  uint16_t port = 0;  // 0: any free port (tests)
  // "host:port", brackets around an IPv6 host; parseListenAddress reads it back to the same value.
  std::string toString() const;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Errors (InvalidArgument, saying what is wrong with the text): no port, a port that is not a
// decimal number in 0..65535, a host that is not an IP literal, unbalanced brackets. The host is
// normalised (inet_ntop) so that equal addresses compare equal.
Result<ListenAddress> parseListenAddress(std::string_view text);

}  // namespace topod::metrics
