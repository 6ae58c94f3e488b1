#include "cgroups/process_signal.h"

#include <signal.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <string>

#include "cgroups/container_files.h"

namespace topod::cgroups {

KillFn realKill() {
  return [](pid_t pid, int signo) { return ::kill(pid, signo); };
}

Result<int> signalCgroup(const CgroupFs& fs, std::string_view cgroup, int signo, const KillFn& kill) {
  auto pids = readCgroupProcs(fs, cgroup);
  if (!pids) return pids.error();
  int signalled = 0;
  for (pid_t pid : *pids) {
    if (kill(static_cast<pid_t>(pid), signo) != 0) {
      if (errno == ESRCH) continue;
      return Error::fromErrno(errno, "kill " + std::to_string(pid) + " (" + std::string(cgroup) + ")");
    }
    ++signalled;
  }
  return signalled;
}

std::optional<int> parseSignalName(std::string_view name) {
  struct Named {
    const char* name;
    int signo;
  };
  static constexpr Named kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
      {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"PWR", SIGPWR},   {"WINCH", SIGWINCH},
  };
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name.front()))) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), value);
    // Linux numbers signals 1..64 (SIGRTMAX).
    if (ec != std::errc() || ptr != name.data() + name.size() || value < 1 || value > 64) return std::nullopt;
    if (value == SIGKILL || value == SIGSTOP) return std::nullopt;
    return value;
  }
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::string_view bare = upper;
  if (bare.starts_with("SIG")) bare.remove_prefix(3);
  for (const Named& signal : kSignals) {
    if (bare == signal.name) return signal.signo;
  }
  return std::nullopt;
}

}  // namespace topod::cgroups
