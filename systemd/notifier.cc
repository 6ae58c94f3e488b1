#include "systemd/notifier.h"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace topod::systemd {

namespace {

Status notify(const std::string& message) {
  // unset_environment = 0: SIGHUP re-execs nothing, but a later READY after a reconnect must
  // still reach the manager.
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) return Error::fromErrno(-rc, "sd_notify(\"" + message + "\")");
  return okStatus();
}

// STATUS= ends at a newline; keep one-line statuses one line.
std::string oneLine(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return line;
}

}  // namespace

Status SdNotifier::ready(std::string_view status) {
  return notify("READY=1\nSTATUS=" + oneLine(status));
}

Status SdNotifier::status(std::string_view status) {
  return notify("STATUS=" + oneLine(status));
}

Status SdNotifier::stopping() {
  return notify("STOPPING=1\nSTATUS=stopping");
}

Status SdNotifier::watchdog() {
  return notify("WATCHDOG=1");
}

std::chrono::microseconds SdNotifier::watchdogInterval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec / 2);
}

bool stderrIsJournal() {
  // JOURNAL_STREAM is "<device>:<inode>" of the journal socket; it only counts when it is still
  // our stderr (a child of a service may have redirected it).
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

}  // namespace topod::systemd
