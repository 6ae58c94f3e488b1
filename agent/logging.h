// Logging setup: only the agent logs (STYLE.md practice 9). Under systemd (stderr is the journal)
// records go to journald with their priority; otherwise to stderr with a timestamp and level.
#pragma once

#include "config/config.h"

namespace topod::agent {

enum class LogTarget { Stderr, Journal };

void setupLogging(LogLevel level, LogTarget target);
void setLogLevel(LogLevel level);

}  // namespace topod::agent
