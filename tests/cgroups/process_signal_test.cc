#include "cgroups/process_signal.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "tests/fakes/fake_cgroup_fs.h"

namespace topod::cgroups {
namespace {

struct Recorder {
  std::vector<std::pair<pid_t, int>> calls;
  std::vector<pid_t> gone;
  KillFn fn() {
    return [this](pid_t pid, int signo) {
      for (pid_t g : gone) {
        if (g == pid) {
          errno = ESRCH;
          return -1;
        }
      }
      calls.emplace_back(pid, signo);
      return 0;
    };
  }
};

TEST(ProcessSignal, SignalsEveryProcessAndSkipsThoseThatExited) {
  testing::FakeCgroupFs fs;
  fs.addCgroup("/kubepods/pod1/c1");
  fs.set("/kubepods/pod1/c1", "cgroup.procs", "12\n13\n14\n");
  Recorder recorder;
  recorder.gone = {13};
  auto count = signalCgroup(fs, "/kubepods/pod1/c1", SIGUSR1, recorder.fn());
  ASSERT_TRUE(count) << count.error().toString();
  EXPECT_EQ(*count, 2);
  EXPECT_EQ(recorder.calls, (std::vector<std::pair<pid_t, int>>{{12, SIGUSR1}, {14, SIGUSR1}}));
}

TEST(ProcessSignal, NeverSignalsAProcessGroupOrGarbage) {
  testing::FakeCgroupFs fs;
  fs.addCgroup("/c");
  for (const char* bad : {"0\n", "-1\n", "12 13\n", "abc\n", "99999999999\n"}) {
    fs.set("/c", "cgroup.procs", bad);
    Recorder recorder;
    auto count = signalCgroup(fs, "/c", SIGUSR1, recorder.fn());
    EXPECT_FALSE(count) << bad;
    EXPECT_TRUE(recorder.calls.empty()) << bad;
  }
}

TEST(ProcessSignal, AGoneCgroupIsNotFound) {
  testing::FakeCgroupFs fs;
  Recorder recorder;
  auto count = signalCgroup(fs, "/gone", SIGUSR1, recorder.fn());
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code(), ErrorCode::NotFound);
}

TEST(ProcessSignal, SignalNames) {
  EXPECT_EQ(parseSignalName("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(parseSignalName("usr2"), SIGUSR2);
  EXPECT_EQ(parseSignalName("SIGTERM"), SIGTERM);
  EXPECT_EQ(parseSignalName("10"), 10);
  for (const char* bad : {"", "SIGKILL", "9", "19", "STOP", "65", "0", "USR", "10x"}) {
    EXPECT_FALSE(parseSignalName(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace topod::cgroups
