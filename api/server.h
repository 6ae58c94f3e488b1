// The local API's gRPC server: serves a Backend on a root-only unix socket (docs/api.md).
//
// The socket: its directory is created 0700 when missing; the socket itself is made 0600 right
// after gRPC binds it (the umask already keeps others from connecting in between, as connecting
// needs write permission). An existing socket that nobody accepts on (a crashed agent's) is
// replaced; one that accepts (another agent) is a FailedPrecondition error, and so is a path that
// exists but is not a socket (never deleted). stop() (or the destructor) removes the socket.
//
// Threads: gRPC's own (a handful, see docs/api.md for the measured count); the Backend is called
// from gRPC's threads, one call at a time per thread. Thread-safety: stop() from one thread.
#pragma once

#include <memory>
#include <string>

#include "api/backend.h"
#include "common/result.h"

namespace topod::api {

class Server {
 public:
  // Starts serving `backend` (which must outlive the server) on `socket_path` (absolute).
  static Result<std::unique_ptr<Server>> start(const std::string& socket_path, const Backend& backend);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting, waits for the calls in flight, removes the socket. Idempotent.
  void stop();
  const std::string& socketPath() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The start-up checks on the socket path alone (used by start(); exposed for tests): absolute,
// short enough for sockaddr_un, parent directory created 0700 when missing, a stale socket
// removed, a live one or a non-socket refused.
Status prepareSocketPath(const std::string& socket_path);

}  // namespace topod::api
