// Clock: the one seam through which code reads time, so tests can drive time by hand.
// Implementations: SteadyClock (real), FakeClock (tests/fakes/fake_clock.h).
#pragma once

#include <chrono>

namespace topod {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  // Monotonic time; never goes backwards. Thread-safe.
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace topod
