// FakeClock: time that moves only when a test says so. Thread-safe.
//
// advance() moves now() forward and wakes, before it returns, every waitUntil() whose deadline it
// reached; the woken thread then runs on its own. waitingCount() / awaitWaiting() tell a test that
// the code under test is parked on this clock again (e.g. a worker that was woken, did its work
// and started its next wait), so a test can step time and check what happened in between
// without sleeping. awaitWaiting()'s real-time bound only turns a hang into a test failure.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/clock.h"

namespace topod::testing {

class FakeClock final : public Clock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }

  bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                 const std::function<bool()>& done) const override {
    if (done()) return true;
    auto waiter = std::make_shared<Waiter>();
    waiter->mutex = lock.mutex();
    waiter->cv = &cv;
    waiter->deadline = deadline;
    {
      std::lock_guard clock_lock(mutex_);
      if (now_ >= deadline) return false;
      waiters_.push_back(waiter);
      changed_.notify_all();
    }
    // `rung` is set under the caller's mutex, so a ring between the check and the wait is not lost.
    cv.wait(lock, [&] { return waiter->rung || done(); });
    // Leave with the caller's mutex released: advance() holds `guard` while it takes that mutex.
    lock.unlock();
    {
      std::lock_guard guard(waiter->guard);
      waiter->gone = true;
    }
    {
      std::lock_guard clock_lock(mutex_);
      std::erase(waiters_, waiter);
      changed_.notify_all();
    }
    lock.lock();
    return done();
  }

  void advance(Duration by) {
    std::vector<std::shared_ptr<Waiter>> due;
    {
      std::lock_guard lock(mutex_);
      now_ += by;
      auto is_due = [&](const std::shared_ptr<Waiter>& waiter) { return waiter->deadline <= now_; };
      std::copy_if(waiters_.begin(), waiters_.end(), std::back_inserter(due), is_due);
      std::erase_if(waiters_, is_due);
      changed_.notify_all();
    }
    for (const auto& waiter : due) {
      std::lock_guard guard(waiter->guard);
      if (waiter->gone) continue;  // woken by its own condition meanwhile
      {
        std::lock_guard caller(*waiter->mutex);
        waiter->rung = true;
      }
      waiter->cv->notify_all();
    }
  }

  // Threads blocked in waitUntil() whose deadline has not come.
  std::size_t waitingCount() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }
  // Blocks until at least `count` threads wait on this clock; false after `timeout` of real time.
  bool awaitWaiting(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return waiters_.size() >= count; });
  }

 private:
  struct Waiter {
    std::mutex* mutex = nullptr;            // the caller's
    std::condition_variable* cv = nullptr;  // the caller's
    TimePoint deadline;
    bool rung = false;  // under *mutex
    std::mutex guard;   // keeps mutex and cv alive while advance() uses them
    bool gone = false;  // under guard: the waiter returned
  };

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  TimePoint now_{std::chrono::hours(1)};
  mutable std::vector<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace topod::testing
