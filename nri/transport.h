// The transport seam of the NRI plugin: how it obtains the unix stream socket to the runtime.
// Real connectors: UnixSocketConnector (external plugin dialling the runtime's socket) and
// InheritedFdConnector (plugin launched by the runtime with NRI_PLUGIN_SOCKET). Tests use
// tests/fakes/fake_nri_connector.h, which hands out socketpair ends.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/file_io.h"
#include "common/result.h"

namespace topod::nri {

// The connection's socket is owned by common/file_io.h's UniqueFd, the one fd owner of the tree.
using ::topod::UniqueFd;

class Connector {
 public:
  virtual ~Connector() = default;
  // A fresh connected SOCK_STREAM socket to the runtime. Called again after each disconnect;
  // an error is retried with backoff unless `canReconnect()` is false.
  virtual Result<UniqueFd> connect() = 0;
  // False when a lost connection can never be replaced (a runtime-launched plugin: the runtime
  // starts a new process instead). The plugin then stops after the first connection ends.
  virtual bool canReconnect() const = 0;
  // For error messages: "unix socket /var/run/nri/nri.sock", "inherited fd 3".
  virtual std::string describe() const = 0;
};

// Dials a unix stream socket path (default /var/run/nri/nri.sock).
class UnixSocketConnector final : public Connector {
 public:
  static constexpr const char* kDefaultSocketPath = "/var/run/nri/nri.sock";
  explicit UnixSocketConnector(std::string path = kDefaultSocketPath) : path_(std::move(path)) {}
  Result<UniqueFd> connect() override;
  bool canReconnect() const override { return true; }
  std::string describe() const override { return "unix socket " + path_; }

 private:
  std::string path_;
};

// Uses a socket the runtime passed down (NRI_PLUGIN_SOCKET=<fd>). Hands it out once.
class InheritedFdConnector final : public Connector {
 public:
  explicit InheritedFdConnector(int fd) : fd_(fd) {}
  Result<UniqueFd> connect() override;
  bool canReconnect() const override { return false; }
  std::string describe() const override;

 private:
  int fd_;
  bool used_ = false;
};

// Identity of the plugin and how to reach the runtime, resolved from the environment the way the
// NRI stub does it (docs/nri.md, "Launch environment and names"): NRI_PLUGIN_SOCKET /
// NRI_PLUGIN_NAME / NRI_PLUGIN_IDX when launched by the runtime, else the given defaults.
// Tolerates NRI v0.3's NAME="<idx>-<name>" bug and, when name or index are missing, parses
// "<idx>-<name>" from argv[0]'s base name.
struct LaunchEnvironment {
  std::string plugin_name;
  std::string plugin_idx;
  int inherited_fd = -1;  // >= 0 when launched by the runtime
};

// `get_env` returns nullptr for unset variables (pass ::getenv in production).
Result<LaunchEnvironment> resolveLaunchEnvironment(const std::function<const char*(const char*)>& get_env,
                                                   const std::string& argv0, const std::string& default_name,
                                                   const std::string& default_idx);

// Checks the NRI naming rules (docs/nri.md, "Launch environment and names"): index = two ASCII
// digits; name non-empty, [A-Za-z0-9_.+-].
Status validatePluginIdentity(const std::string& name, const std::string& idx);

// Builds the connector for a resolved environment: inherited fd, or the socket path.
std::unique_ptr<Connector> makeConnector(const LaunchEnvironment& env, const std::string& socket_path);

}  // namespace topod::nri
