// InotifySocketWatcher on a real directory tree: it reports the socket's name appearing (and
// nothing else), descends into directories created later and climbs back up when one is removed.
// The waits block on the watcher's callback; their bound only turns a hang into a failure.
#include "nri/socket_watcher.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

namespace topod::nri {
namespace {

class Appearances {
 public:
  std::function<void()> callback() {
    return [this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++count_;
      }
      cv_.notify_all();
    };
  }
  // Blocks until at least `n` appearances were reported.
  bool await(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

class SocketWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "topod-sockwatch.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A listening unix socket at `path`, as a runtime creates it; closed (file left) on return.
  static void bindSocket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof(addr.sun_path));
    path.copy(addr.sun_path, path.size());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
    ::close(fd);
  }

  std::string dir_;
  Appearances seen_;
};

TEST_F(SocketWatcherTest, ReportsTheSocketAndNoOtherEntry) {
  InotifySocketWatcher watcher(dir_ + "/nri.sock");
  ASSERT_TRUE(watcher.start(seen_.callback()).has_value());
  EXPECT_EQ(watcher.watchedDirectory(), dir_);
  std::ofstream(dir_ + "/other") << "x";
  ASSERT_EQ(::mkdir((dir_ + "/nri.sock.d").c_str(), 0700), 0);
  bindSocket(dir_ + "/nri.sock");
  ASSERT_TRUE(seen_.await(1));
  // Events come in order: had "other" or "nri.sock.d" counted, the socket would make it 2.
  watcher.stop();
  EXPECT_EQ(seen_.count(), 1);
}

// The runtime's restart: it unlinks its stale socket and binds a new one.
TEST_F(SocketWatcherTest, ReportsARecreatedSocket) {
  bindSocket(dir_ + "/nri.sock");
  InotifySocketWatcher watcher(dir_ + "/nri.sock");
  ASSERT_TRUE(watcher.start(seen_.callback()).has_value());
  ASSERT_EQ(::unlink((dir_ + "/nri.sock").c_str()), 0);
  bindSocket(dir_ + "/nri.sock");
  ASSERT_TRUE(seen_.await(1));
  ASSERT_EQ(::rename((dir_ + "/nri.sock").c_str(), (dir_ + "/moved").c_str()), 0);
  ASSERT_EQ(::rename((dir_ + "/moved").c_str(), (dir_ + "/nri.sock").c_str()), 0);
  ASSERT_TRUE(seen_.await(2)) << "moved into place counts as appearing";
}

TEST_F(SocketWatcherTest, DescendsIntoDirectoriesCreatedLater) {
  InotifySocketWatcher watcher(dir_ + "/run/nri/nri.sock");
  ASSERT_TRUE(watcher.start(seen_.callback()).has_value());
  EXPECT_EQ(watcher.watchedDirectory(), dir_) << "the nearest existing ancestor";
  ASSERT_EQ(::mkdir((dir_ + "/run").c_str(), 0700), 0);
  ASSERT_TRUE(seen_.await(1)) << "a directory on the way counts (the socket may follow at once)";
  EXPECT_EQ(watcher.watchedDirectory(), dir_ + "/run");
  ASSERT_EQ(::mkdir((dir_ + "/run/nri").c_str(), 0700), 0);
  ASSERT_TRUE(seen_.await(2));
  EXPECT_EQ(watcher.watchedDirectory(), dir_ + "/run/nri");
  bindSocket(dir_ + "/run/nri/nri.sock");
  ASSERT_TRUE(seen_.await(3));
}

TEST_F(SocketWatcherTest, ClimbsWhenTheDirectoryIsRemovedAndComesBack) {
  ASSERT_EQ(::mkdir((dir_ + "/nri").c_str(), 0700), 0);
  InotifySocketWatcher watcher(dir_ + "/nri/nri.sock");
  ASSERT_TRUE(watcher.start(seen_.callback()).has_value());
  EXPECT_EQ(watcher.watchedDirectory(), dir_ + "/nri");
  ASSERT_EQ(::rmdir((dir_ + "/nri").c_str()), 0);
  // Only a watcher that climbed to dir_ can see the directory come back.
  ASSERT_EQ(::mkdir((dir_ + "/nri").c_str(), 0700), 0);
  ASSERT_TRUE(seen_.await(1));
  EXPECT_EQ(watcher.watchedDirectory(), dir_ + "/nri");
  bindSocket(dir_ + "/nri/nri.sock");
  ASSERT_TRUE(seen_.await(2));
}

TEST_F(SocketWatcherTest, StartTwiceOrOnAnEmptyPathIsAnError) {
  InotifySocketWatcher watcher(dir_ + "/nri.sock");
  ASSERT_TRUE(watcher.start(seen_.callback()).has_value());
  auto again = watcher.start(seen_.callback());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::FailedPrecondition);
  InotifySocketWatcher empty("");
  auto none = empty.start(seen_.callback());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace topod::nri
