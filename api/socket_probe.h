// Whether something accepts connections on a unix socket path: the server's stale-socket check
// and the client's "is an agent there?" check, before gRPC is involved.
#pragma once

#include <string>

namespace topod::api {

enum class SocketProbe {
  Accepting,  // connect() worked: something serves it
  Refused,    // a socket file nobody listens on (a stale one)
  Missing,    // no such file (or directory)
  NotSocket,  // the path exists and is no socket
  Denied,     // no permission to connect (the API is root-only)
  TooLong,    // does not fit sockaddr_un
  Failed,     // another error; errno in `sys_errno`
};

struct SocketProbeResult {
  SocketProbe probe = SocketProbe::Failed;
  int sys_errno = 0;
};

SocketProbeResult probeSocket(const std::string& path);
// "no such socket", "connection refused (a stale socket)", ...
std::string describeProbe(const SocketProbeResult& result);

}  // namespace topod::api
