#include "nri/event_mask.h"

#include <cstdio>
#include <optional>
#include <string>

namespace topod::nri {
namespace {

struct Version {
  int major = 0;
  int minor = 0;
};

// Reads "[v]MAJOR.MINOR" from the front of strings such as "v1.7.24", "2.1.4-1.fc40",
// "1.33.2". Anything else: nullopt.
std::optional<Version> parseVersion(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
  auto number = [&text]() -> std::optional<int> {
    size_t digits = 0;
    int value = 0;
    while (digits < text.size() && digits < 6 && text[digits] >= '0' && text[digits] <= '9') {
      value = value * 10 + (text[digits] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    text.remove_prefix(digits);
    return value;
  };
  const auto major = number();
  if (!major || text.empty() || text.front() != '.') return std::nullopt;
  text.remove_prefix(1);
  const auto minor = number();
  if (!minor) return std::nullopt;
  return Version{*major, *minor};
}

std::string hex(EventMask mask) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%04x", mask);
  return text;
}

bool atLeast(const Version& v, int major, int minor) {
  return v.major > major || (v.major == major && v.minor >= minor);
}

}  // namespace

EventMask validEventsFor(std::string_view runtime_name, std::string_view runtime_version,
                         std::string_view nri_version) {
  if (const auto nri = parseVersion(nri_version)) {
    return atLeast(*nri, 0, 10) ? kValidEventsV010 : kValidEventsV02;
  }
  const auto version = parseVersion(runtime_version);
  if (!version) return kValidEventsV02;
  if (runtime_name == "containerd") {
    return atLeast(*version, 2, 2) ? kValidEventsV010 : kValidEventsV02;
  }
  if (runtime_name == "cri-o" || runtime_name == "crio" || runtime_name == "CRI-O") {
    if (atLeast(*version, 1, 34)) return kValidEventsV010;
    if (atLeast(*version, 1, 33)) return kValidEventsCrio133;
    return kValidEventsV02;
  }
  return kValidEventsV02;
}

Result<EventMask> chooseEventMask(EventMask wanted, EventMask valid) {
  const EventMask mask = wanted & valid;
  if (mask == 0) {
    return Error::invalidArgument("no wanted NRI event (mask " + hex(wanted) +
                                  ") is valid for this runtime (valid events " + hex(valid) +
                                  "); refusing to subscribe with 0");
  }
  return mask;
}

}  // namespace topod::nri
