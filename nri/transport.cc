#include "nri/transport.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace topod::nri {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// "<idx>-<name>" with a two-digit index, as plugin file names are spelled.
bool splitIndexedName(const std::string& text, std::string* idx, std::string* name) {
  if (text.size() < 4 || !isDigit(text[0]) || !isDigit(text[1]) || text[2] != '-') return false;
  *idx = text.substr(0, 2);
  *name = text.substr(3);
  return true;
}

}  // namespace

Result<UniqueFd> UnixSocketConnector::connect() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof(addr.sun_path)) {
    return Error::invalidArgument("NRI socket path \"" + path_ + "\" must be 1 to " +
                                  std::to_string(sizeof(addr.sun_path) - 1) + " bytes long");
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::fromErrno(errno, "creating a unix socket for " + path_);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    return Error(ErrorCode::Unavailable, "connecting to NRI socket " + path_ + ": " + std::strerror(err), err);
  }
  return fd;
}

Result<UniqueFd> InheritedFdConnector::connect() {
  if (used_) {
    return Error::failedPrecondition("the runtime-provided NRI socket (fd " + std::to_string(fd_) +
                                     ") is gone; a launched plugin cannot reconnect");
  }
  used_ = true;
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd_, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return Error::invalidArgument("NRI_PLUGIN_SOCKET fd " + std::to_string(fd_) + " is not a stream socket");
  }
  // Keep it from leaking into processes we might start.
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
  return UniqueFd(fd_);
}

std::string InheritedFdConnector::describe() const {
  return "runtime-provided socket fd " + std::to_string(fd_);
}

Status validatePluginIdentity(const std::string& name, const std::string& idx) {
  if (idx.size() != 2 || !isDigit(idx[0]) || !isDigit(idx[1])) {
    return Error::invalidArgument("NRI plugin index \"" + idx + "\" must be exactly two digits");
  }
  if (name.empty()) return Error::invalidArgument("NRI plugin name must not be empty");
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' || c == '.' || c == '+' || c == '-';
    if (!ok) {
      return Error::invalidArgument("NRI plugin name \"" + name + "\" may only contain letters, digits and _.+-");
    }
  }
  return okStatus();
}

Result<LaunchEnvironment> resolveLaunchEnvironment(const std::function<const char*(const char*)>& get_env,
                                                   const std::string& argv0, const std::string& default_name,
                                                   const std::string& default_idx) {
  LaunchEnvironment env{default_name, default_idx, -1};
  const char* socket = get_env("NRI_PLUGIN_SOCKET");
  if (socket == nullptr || *socket == '\0') return env;

  const std::string fd_text = socket;
  int fd = 0;
  for (char c : fd_text) {
    if (!isDigit(c) || fd > 100000) {
      return Error::invalidArgument("NRI_PLUGIN_SOCKET=\"" + fd_text + "\" is not a file descriptor");
    }
    fd = fd * 10 + (c - '0');
  }
  env.inherited_fd = fd;

  const char* name = get_env("NRI_PLUGIN_NAME");
  const char* idx = get_env("NRI_PLUGIN_IDX");
  std::string split_idx;
  std::string split_name;
  if (name != nullptr && *name != '\0' && idx != nullptr && *idx != '\0') {
    env.plugin_name = name;
    env.plugin_idx = idx;
    // NRI v0.3 (containerd 1.7.0-1.7.6) passed the full "<idx>-<name>" as the name.
    if (splitIndexedName(env.plugin_name, &split_idx, &split_name) && split_idx == env.plugin_idx) {
      env.plugin_name = split_name;
    }
    return env;
  }
  // Launched without name/index: the runtime found us as /opt/nri/plugins/<idx>-<name>.
  const size_t slash = argv0.find_last_of('/');
  const std::string base = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
  if (!splitIndexedName(base, &split_idx, &split_name)) {
    return Error::invalidArgument(
        "launched NRI plugin without NRI_PLUGIN_NAME/NRI_PLUGIN_IDX and "
        "its file name \"" +
        base + "\" is not <idx>-<name>");
  }
  env.plugin_idx = split_idx;
  env.plugin_name = split_name;
  return env;
}

std::unique_ptr<Connector> makeConnector(const LaunchEnvironment& env, const std::string& socket_path) {
  if (env.inherited_fd >= 0) return std::make_unique<InheritedFdConnector>(env.inherited_fd);
  return std::make_unique<UnixSocketConnector>(socket_path);
}

}  // namespace topod::nri
