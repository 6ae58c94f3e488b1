#include "cgroups/process_signal.h"

#include <signal.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <string>

namespace topod::cgroups {

KillFn realKill() {
  return [](pid_t pid, int signo) { return ::kill(pid, signo); };
}

Result<int> signalCgroup(const CgroupFs& fs, std::string_view cgroup, int signo, const KillFn& kill) {
  auto procs = fs.readFile("cpuset", cgroup, "cgroup.procs");
  if (!procs) return procs.error();
  int signalled = 0;
  std::string_view rest = *procs;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.empty()) continue;
    int64_t pid = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    // pid 0 and negative pids would signal process groups: never.
    if (ec != std::errc() || ptr != line.data() + line.size() || pid <= 0 || pid > INT32_MAX) {
      return Error::invalidArgument(std::string(cgroup) + "/cgroup.procs: \"" + std::string(line.substr(0, 32)) +
                                    "\" is not a pid");
    }
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
