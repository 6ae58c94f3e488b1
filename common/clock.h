// Clock: the one seam through which code reads time and waits for it, so tests can drive time by
// hand instead of sleeping. Implementations: SteadyClock (real), FakeClock
// (tests/fakes/fake_clock.h: time moves only by advance(), which wakes the waiters it makes due).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace topod {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  // Monotonic time; never goes backwards. Thread-safe.
  virtual TimePoint now() const = 0;
  // Blocks on `cv` like std::condition_variable::wait_until: `lock` (held on entry and on return)
  // is released while waiting; returns when `done()` holds (true) or now() reached `deadline`
  // (done() then decides the result). Whoever makes done() true changes it under the same mutex
  // and notifies `cv`. Thread-safe; any number of threads may wait at once.
  virtual bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                         const std::function<bool()>& done) const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                 const std::function<bool()>& done) const override {
    return cv.wait_until(lock, deadline, done);
  }
};

// The process's real clock, for code whose options leave the clock unset.
inline const Clock& steadyClock() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace topod
