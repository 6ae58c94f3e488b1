// SdNotifier against a real datagram socket standing in for systemd's NOTIFY_SOCKET.
#include "systemd/notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace topod::systemd {
namespace {

class NotifySocket {
 public:
  NotifySocket() {
    path_ = "/tmp/topod-notify-" + std::to_string(::getpid());
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  std::string receive() {
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(SdNotifierTest, SendsReadyStatusStoppingAndWatchdog) {
  NotifySocket socket;
  SdNotifier notifier;
  ASSERT_TRUE(notifier.ready("managing 4 cpus\nsecond line").has_value());
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=managing 4 cpus second line");
  ASSERT_TRUE(notifier.status("waiting for /run/nri.sock").has_value());
  EXPECT_EQ(socket.receive(), "STATUS=waiting for /run/nri.sock");
  ASSERT_TRUE(notifier.watchdog().has_value());
  EXPECT_EQ(socket.receive(), "WATCHDOG=1");
  ASSERT_TRUE(notifier.stopping().has_value());
  EXPECT_EQ(socket.receive(), "STOPPING=1\nSTATUS=stopping");
}

TEST(SdNotifierTest, NoSocketIsASilentSuccess) {
  ::unsetenv("NOTIFY_SOCKET");
  SdNotifier notifier;
  EXPECT_TRUE(notifier.ready("x").has_value());
  EXPECT_TRUE(notifier.stopping().has_value());
}

TEST(SdNotifierTest, WatchdogIntervalIsHalfTheConfiguredTimeout) {
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  SdNotifier notifier;
  EXPECT_EQ(notifier.watchdogInterval().count(), 2000000);
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_EQ(notifier.watchdogInterval().count(), 0);
}

TEST(StderrIsJournalTest, FollowsJournalStream) {
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderrIsJournal());
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  EXPECT_FALSE(stderrIsJournal());
  ::unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace topod::systemd
