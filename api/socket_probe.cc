#include "api/socket_probe.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace topod::api {

SocketProbeResult probeSocket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return {SocketProbe::TooLong, ENAMETOOLONG};
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return {SocketProbe::Missing, err};
    if (err == EACCES) return {SocketProbe::Denied, err};
    return {SocketProbe::Failed, err};
  }
  if (!S_ISSOCK(st.st_mode)) return {SocketProbe::NotSocket, 0};
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {SocketProbe::Failed, errno};
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = rc == 0 ? 0 : errno;
  ::close(fd);
  if (rc == 0) return {SocketProbe::Accepting, 0};
  if (err == ECONNREFUSED) return {SocketProbe::Refused, err};
  if (err == ENOENT) return {SocketProbe::Missing, err};
  if (err == EACCES || err == EPERM) return {SocketProbe::Denied, err};
  return {SocketProbe::Failed, err};
}

std::string describeProbe(const SocketProbeResult& result) {
  switch (result.probe) {
    case SocketProbe::Accepting: return "accepting connections";
    case SocketProbe::Refused: return "connection refused (a socket nobody serves)";
    case SocketProbe::Missing: return "no such socket";
    case SocketProbe::NotSocket: return "the path is not a socket";
    case SocketProbe::Denied: return "permission denied (the API is root-only)";
    case SocketProbe::TooLong: return "the path is too long for a unix socket";
    case SocketProbe::Failed: return std::string("cannot connect: ") + std::strerror(result.sys_errno);
  }
  return "unknown";
}

}  // namespace topod::api
