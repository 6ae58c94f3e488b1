#include "metrics/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace topod::metrics {

namespace {

// The longest text inet_ntop writes (INET6_ADDRSTRLEN includes the terminating NUL).
constexpr std::size_t kMaxHostChars = INET6_ADDRSTRLEN;

Error invalid(std::string_view text, const std::string& why) {
  return Error::invalidArgument("listen address \"" + std::string(text) + "\": " + why);
}

}  // namespace

std::string ListenAddress::toString() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid(text, "expected host:port, e.g. 127.0.0.1:9412");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  ListenAddress address;
  if (host.starts_with('[') || host.ends_with(']')) {
    if (host.size() < 2 || !host.starts_with('[') || !host.ends_with(']')) {
      return invalid(text, "unbalanced brackets around the IPv6 address");
    }
    host = host.substr(1, host.size() - 2);
    address.ipv6 = true;
  }
  if (host.empty()) return invalid(text, "no host; use 127.0.0.1 for this node only, 0.0.0.0 for every address");
  if (host.size() >= kMaxHostChars) return invalid(text, "the host is not an IP address");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return invalid(text, "the port must be a number from 0 to 65535");
  }
  unsigned value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  if (value > 65535) return invalid(text, "the port must be a number from 0 to 65535");
  address.port = static_cast<uint16_t>(value);

  const std::string host_text(host);
  char normal[kMaxHostChars] = {};
  if (address.ipv6) {
    in6_addr ip{};
    if (::inet_pton(AF_INET6, host_text.c_str(), &ip) != 1) return invalid(text, "the host is not an IPv6 address");
    ::inet_ntop(AF_INET6, &ip, normal, sizeof(normal));
  } else {
    in_addr ip{};
    if (::inet_pton(AF_INET, host_text.c_str(), &ip) != 1) {
      return invalid(text, host_text.find(':') != std::string::npos
                               ? "an IPv6 host goes in brackets, e.g. [::1]:9412"
                               : "the host is not an IPv4 address (names are not resolved)");
    }
    ::inet_ntop(AF_INET, &ip, normal, sizeof(normal));
  }
  address.host = normal;
  return address;
}

}  // namespace topod::metrics
