// ChildProcess: the `topod` binary run as a real process by the tests of `topod run` and the
// crash test: arguments, extra environment, stdout and stderr captured by a reader thread so a
// test can wait for a log line, signals, exit status. The child gets its own process group so a
// SIGKILL of the test's choosing hits it and nothing else.
//
// wait() reports an exit only once the reader has read the pipe to its end: the exit is seen
// through a pidfd, and the child's last writes may still be in the pipe at that moment (a
// `topod state` table without its last rows, issue 16).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace topod::testing {

class ChildProcess {
 public:
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::vector<std::string>& extra_env = {}) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv_storage{binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // The environment is built before fork: between fork and exec only async-signal-safe calls.
    std::vector<std::string> env_storage;
    for (char** entry = environ; *entry != nullptr; ++entry) env_storage.emplace_back(*entry);
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (std::string& entry : env_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::dup2(pipe_fds[1], STDERR_FILENO);
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::execve(binary.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    read_fd_ = pipe_fds[0];
    if (pid_ > 0) pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    reader_ = std::thread([this] { readLoop(); });
  }

  ~ChildProcess() {
    if (pid_ > 0 && !exited()) {
      ::kill(pid_, SIGKILL);
      (void)wait(std::chrono::seconds(10));
    }
    if (reader_.joinable()) reader_.join();
    if (read_fd_ >= 0) ::close(read_fd_);
    if (pid_fd_ >= 0) ::close(pid_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  void signal(int sig) const { ::kill(pid_, sig); }

  // Waits until the output so far contains `text`; false on timeout (or when the child's output
  // ended without it).
  bool waitForOutput(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(15),
                     std::size_t from = 0) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return output_.find(text, from) != std::string::npos || eof_; }) &&
           output_.find(text, from) != std::string::npos;
  }
  std::string output() const {
    std::lock_guard lock(mutex_);
    return output_;
  }
  std::size_t outputSize() const {
    std::lock_guard lock(mutex_);
    return output_.size();
  }

  // The exit status (as waitpid reports it), once the child exited and its output was read to
  // the end; nullopt if it is still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    if (pid_fd_ < 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {  // the pidfd turns readable when the child exits
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{.fd = pid_fd_, .events = POLLIN, .revents = 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (ready > 0) break;
      if (ready == 0 || errno != EINTR) return std::nullopt;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    // The exit closed the child's end of the pipe; what it wrote last may still be unread. The
    // bound only matters if something the child started kept the pipe open.
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, kDrainBound, [&] { return eof_; });
    status_ = status;
    return status_;
  }
  bool exited() {
    if (status_) return true;
    return wait(std::chrono::milliseconds(0)).has_value();
  }

 private:
  void readLoop() {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        eof_ = true;
        cv_.notify_all();
        return;
      }
      output_.append(buffer, static_cast<std::size_t>(n));
      cv_.notify_all();
    }
  }

  static constexpr std::chrono::seconds kDrainBound{10};

  pid_t pid_ = -1;
  int pid_fd_ = -1;
  int read_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string output_;
  bool eof_ = false;
  std::optional<int> status_;
};

}  // namespace topod::testing
