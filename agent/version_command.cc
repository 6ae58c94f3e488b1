#include <cstdio>

#include "agent/commands.h"
#include "agent/version.h"

namespace topod::agent {

int runVersionCommand() {
  std::printf("topod %s\n", kVersion);
  return 0;
}

}  // namespace topod::agent
