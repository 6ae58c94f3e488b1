// Notifier: the service manager's readiness protocol (sd_notify(3)). A daemon started by systemd
// with Type=notify reports READY once it serves, STATUS lines for `systemctl status`, STOPPING on
// shutdown, and WATCHDOG keep-alives when WatchdogSec= is set. Outside systemd (NOTIFY_SOCKET
// unset) every call is a successful no-op.
// Implementations: SdNotifier (libsystemd, below) and FakeNotifier (tests/fakes/fake_notifier.h).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "common/result.h"

namespace topod::systemd {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Status ready(std::string_view status) = 0;
  virtual Status status(std::string_view status) = 0;
  virtual Status stopping() = 0;
  virtual Status watchdog() = 0;
  // How often watchdog() must be called (half the service's WatchdogSec, as sd_watchdog_enabled
  // recommends); zero when the watchdog is off.
  virtual std::chrono::microseconds watchdogInterval() const = 0;
};

class SdNotifier final : public Notifier {
 public:
  Status ready(std::string_view status) override;
  Status status(std::string_view status) override;
  Status stopping() override;
  Status watchdog() override;
  std::chrono::microseconds watchdogInterval() const override;
};

// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM for services whose
// output goes there); the agent then logs to journald with priorities instead of plain stderr.
bool stderrIsJournal();

}  // namespace topod::systemd
