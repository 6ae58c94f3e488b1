// FakeClock (tests/fakes/fake_clock.h): waiters wake exactly when advance() reaches their
// deadline or their own condition holds, never by real time passing, and a ring that races with
// the start of a wait is not lost.
#include "tests/fakes/fake_clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace topod::testing {
namespace {

using std::chrono::milliseconds;

TEST(FakeClockTest, AdvanceWakesAWaiterAtItsDeadlineAndNotBefore) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<int> result{-1};
  const Clock::TimePoint deadline = clock.now() + milliseconds(100);
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    result = clock.waitUntil(lock, cv, deadline, [] { return false; }) ? 1 : 0;
  });
  ASSERT_TRUE(clock.awaitWaiting(1));
  clock.advance(milliseconds(99));
  EXPECT_EQ(clock.waitingCount(), 1U);
  EXPECT_EQ(result, -1);
  clock.advance(milliseconds(1));
  waiter.join();
  EXPECT_EQ(result, 0) << "woken by time, its condition false";
  EXPECT_EQ(clock.waitingCount(), 0U);
}

TEST(FakeClockTest, ItsOwnConditionWakesAWaiterWithoutTimeMoving) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false;
  std::atomic<int> result{-1};
  const Clock::TimePoint start = clock.now();
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    result = clock.waitUntil(lock, cv, clock.now() + std::chrono::hours(1), [&] { return ready; }) ? 1 : 0;
  });
  ASSERT_TRUE(clock.awaitWaiting(1));
  {
    std::lock_guard lock(mutex);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(result, 1);
  EXPECT_EQ(clock.now(), start);
  EXPECT_EQ(clock.waitingCount(), 0U);
  clock.advance(std::chrono::hours(2));  // a ring for a waiter that left touches nothing
}

TEST(FakeClockTest, PastDeadlineReturnsAtOnce) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock lock(mutex);
  EXPECT_FALSE(clock.waitUntil(lock, cv, clock.now(), [] { return false; }));
  EXPECT_TRUE(clock.waitUntil(lock, cv, clock.now(), [] { return true; }));
  EXPECT_TRUE(lock.owns_lock());
}

// Many waiters with staggered deadlines, time stepped in small increments while they start: each
// returns exactly once, none is left behind (a lost ring would hang the join).
TEST(FakeClockTest, StaggeredWaitersAllWakeWhileTimeSteps) {
  constexpr int kWaiters = 32;
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    FakeClock clock;
    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<int> woken{0};
    const Clock::TimePoint start = clock.now();
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
      threads.emplace_back([&, i] {
        std::unique_lock lock(mutex);
        EXPECT_FALSE(clock.waitUntil(lock, cv, start + milliseconds(i), [] { return false; }));
        EXPECT_GE(clock.now(), start + milliseconds(i));
        ++woken;
      });
    }
    for (int step = 0; step < kWaiters; ++step) clock.advance(milliseconds(1));
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(woken, kWaiters);
  }
}

}  // namespace
}  // namespace topod::testing
