// How the agent's log lines name a container: escaped, so that a newline in a name the runtime
// sent cannot forge a log line. Shared by the agent's source files.
#pragma once

#include <string>

#include "common/text.h"
#include "policies/state.h"

namespace topod::agent {

inline std::string describe(const policies::ContainerKey& key) {
  return escapeForDisplay(key.pod_uid + "/" + key.container_name);
}

}  // namespace topod::agent
