#include <cstdio>

#include "cli/commands.h"
#include "cli/version.h"

namespace topod::agent {

int runVersionCommand() {
  std::printf("topod %s\n", kVersion);
  return 0;
}

}  // namespace topod::agent
