// ChildProcess (tests/agent/child_process.h): once wait() reports the exit, output() holds
// everything the child wrote. A child that writes more than a pipe holds and exits at once is
// the case that lost its tail when the exit was seen before the reader reached the end of the
// pipe (the `topod state` table that came back without its container, issue 16).
#include "tests/agent/child_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

namespace topod::testing {
namespace {

// `seq 1 30000` writes ~170 KiB: more than a 64 KiB pipe, so the child blocks on the reader
// and exits right after its last write.
constexpr int kLines = 30000;
constexpr int kRuns = 200;

std::string expectedOutput() {
  std::string out;
  for (int i = 1; i <= kLines; ++i) out += std::to_string(i) + "\n";
  return out;
}

TEST(ChildProcessTest, WaitReturnsOnlyOnceTheWholeOutputIsRead) {
  const std::string expected = expectedOutput();
  int short_runs = 0;
  for (int run = 0; run < kRuns; ++run) {
    ChildProcess child("/usr/bin/seq", {"1", std::to_string(kLines)});
    ASSERT_TRUE(child.started());
    auto status = child.wait(std::chrono::seconds(30));
    ASSERT_TRUE(status.has_value()) << "run " << run;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
    if (child.output() != expected) ++short_runs;
  }
  EXPECT_EQ(short_runs, 0) << "runs whose output() missed part of what the child wrote, of " << kRuns;
}

TEST(ChildProcessTest, WaitTimesOutOnAChildThatKeepsRunning) {
  ChildProcess child("/bin/sleep", {"30"});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.wait(std::chrono::milliseconds(50)).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_FALSE(child.exited());
  child.signal(SIGKILL);
  auto status = child.wait(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
}

}  // namespace
}  // namespace topod::testing
