// RuntimeListener: the runtime's NRI socket for tests that run `topod run` (or another agent
// process) as a child: a listening unix socket the child dials, accepted with a timeout so a
// child that never connects fails the test instead of hanging it.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "nri/transport.h"

namespace topod::testing {

class RuntimeListener {
 public:
  explicit RuntimeListener(std::string path) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 4) == 0;
  }
  ~RuntimeListener() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  RuntimeListener(const RuntimeListener&) = delete;
  RuntimeListener& operator=(const RuntimeListener&) = delete;

  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

  // The next connection, or an invalid fd after `timeout`.
  nri::UniqueFd accept(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return nri::UniqueFd(-1);
    return nri::UniqueFd(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace topod::testing
