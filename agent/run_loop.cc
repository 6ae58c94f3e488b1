// `topod run`: the node daemon. Wires the pieces (config, logging, lock, topology, cgroups,
// Agent, NRI plugin, sd_notify) and owns the process: signals, the unsolicited-update worker and
// the wait for the runtime's socket. The event logic itself lives in agent.cc.
#include "agent/run_loop.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/api_backend.h"
#include "agent/eviction_warnings.h"
#include "agent/logging.h"
#include "agent/nrt_publishing.h"
#include "api/server.h"
#include "cgroups/cgroup_fs_impl.h"
#include "common/clock.h"
#include "config/config.h"
#include "metrics/http_server.h"
#include "metrics/registry.h"
#include "nri/plugin.h"
#include "nri/socket_watcher.h"
#include "nri/transport.h"
#include "state/lock_file.h"
#include "state/state_file.h"
#include "systemd/notifier.h"
#include "systemd/unit_properties.h"
#include "topology/loaders.h"
#include "topology/text_format.h"

namespace topod::agent {

namespace {

void logCheckpointError(const Error& error, const std::string& consequence) {
  spdlog::error("checkpoint: {}; {}", error.toString(), consequence);
}

// How long to wait for the runtime socket between checks: doubling from the first to the last.
// The socket watcher cuts each wait short the moment the socket appears.
constexpr std::chrono::milliseconds kSocketWaitFirst{100};
constexpr std::chrono::milliseconds kSocketWaitMax{5000};
// Sent by the socket watcher's thread to the main thread (blocked, taken by sigtimedwait) when
// the runtime's socket appears while topod waits for it at start-up.
constexpr int kSocketAppearedSignal = SIGUSR1;
// Repeated identical connection errors are logged at most this often.
constexpr std::chrono::seconds kRepeatLogInterval{60};

// Waits for a signal from `signals` for at most `timeout`; 0 on timeout.
int waitSignal(const sigset_t& signals, std::chrono::milliseconds timeout) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{.tv_sec = static_cast<time_t>(secs.count()),
              .tv_nsec = static_cast<long>(std::chrono::nanoseconds(timeout - secs).count())};
  int sig = ::sigtimedwait(&signals, nullptr, &ts);
  return sig < 0 ? 0 : sig;
}

// Logs an error once, then the same message again only after kRepeatLogInterval.
class RepeatLimiter {
 public:
  explicit RepeatLimiter(const Clock& clock) : clock_(clock) {}
  void log(const std::string& message) {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    if (message == last_ && now - last_time_ < kRepeatLogInterval) {
      ++suppressed_;
      return;
    }
    if (suppressed_ > 0) spdlog::warn("(previous message repeated {} more times)", suppressed_);
    spdlog::warn("{}", message);
    last_ = message;
    last_time_ = now;
    suppressed_ = 0;
  }

 private:
  const Clock& clock_;
  std::mutex mutex_;
  std::string last_;
  Clock::TimePoint last_time_{};
  int suppressed_ = 0;
};

// What the cluster-side workers (NodeResourceTopology, eviction warnings) report as they go:
// successes at info, failures (which they retry) at warn.
void logClusterReport(bool ok, const std::string& message) {
  if (ok) {
    spdlog::info("{}", message);
  } else {
    spdlog::warn("{}", message);
  }
}

// Sends the agent's pending unsolicited updates through the plugin, off the NRI I/O thread (a
// handler must never call updateContainers: the runtime holds its lock while it waits for us),
// then moves the pages of containers whose NUMA nodes changed (Agent::followPages): every second,
// and every kPagePoll while some wait for the runtime to apply their new cpuset.mems.
class UnsolicitedSender {
 public:
  UnsolicitedSender(Agent& agent, nri::Plugin& plugin) : agent_(agent), plugin_(plugin) {
    thread_ = std::thread([this] { loop(); });
  }
  ~UnsolicitedSender() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void wake() {
    {
      std::lock_guard lock(mutex_);
      wake_ = true;
    }
    cv_.notify_one();
  }

 private:
  static constexpr auto kPagePoll = std::chrono::milliseconds(200);
  static constexpr auto kIdlePoll = std::chrono::seconds(1);
  static constexpr auto kPageBudget = std::chrono::seconds(2);

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      // Page moves are queued by replies too (a resize), which wake nobody: poll for them.
      cv_.wait_for(lock, agent_.pagesPending() ? kPagePoll : kIdlePoll, [this] { return stop_ || wake_; });
      if (stop_) return;
      const bool woken = std::exchange(wake_, false);
      lock.unlock();
      PendingUpdates pending = woken ? agent_.takePendingUpdates() : PendingUpdates{};
      if (!pending.updates.empty()) {
        auto failed = plugin_.updateContainers(pending.updates);
        if (!failed.has_value()) {
          // Not connected, or no answer: the next Synchronize re-applies every placement.
          spdlog::warn("sending {} container updates to the runtime failed: {}", pending.updates.size(),
                       failed.error().toString());
          agent_.unsolicitedDone(pending, pending.updates);
        } else {
          if (!failed->empty())
            spdlog::warn("the runtime failed {} of {} container updates", failed->size(), pending.updates.size());
          spdlog::debug("sent {} unsolicited container updates", pending.updates.size());
          agent_.unsolicitedDone(pending, *failed);
        }
      }
      agent_.followPages(kPageBudget);
      lock.lock();
    }
  }

  Agent& agent_;
  nri::Plugin& plugin_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// When the main thread last came round its loop: /healthz fails once it has not for a while.
class Heartbeat {
 public:
  explicit Heartbeat(const Clock& clock) : clock_(clock) { beat(); }
  void beat() { last_ = clock_.now().time_since_epoch().count(); }
  Clock::Duration age() const { return clock_.now() - Clock::TimePoint(Clock::Duration(last_.load())); }

 private:
  const Clock& clock_;
  std::atomic<Clock::Duration::rep> last_{0};
};
// The main thread wakes at least every 5 s (kSocketWaitMax) or every watchdog tick; a
// heartbeat older than three of those means it is stuck.
constexpr std::chrono::seconds kHealthyHeartbeatAge{15};

// The metrics and health endpoint ([metrics] address; docs/metrics.md). nullptr when off or
// when the address cannot be bound (logged: topod serves the runtime all the same).
std::unique_ptr<metrics::HttpServer> startMetricsServer(const std::string& address, const metrics::Registry& registry,
                                                        const Agent& agent, const Heartbeat& heartbeat,
                                                        Clock::Duration max_age) {
  if (address.empty()) return nullptr;
  auto parsed = metrics::parseListenAddress(address);  // validated with the config already
  if (!parsed.has_value()) {
    spdlog::error("metrics: {}; serving no metrics", parsed.error().toString());
    return nullptr;
  }
  auto health = [&agent, &heartbeat, max_age]() -> std::string {
    if (heartbeat.age() > max_age) {
      return "the main loop has not run for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(heartbeat.age()).count()) + " s";
    }
    return agent.healthProblem();
  };
  auto server = metrics::HttpServer::start(
      *parsed, metrics::HttpHandlers{.metrics = [&registry] { return registry.render(); }, .health = health});
  if (!server.has_value()) {
    spdlog::error("metrics: {}; serving no metrics (set [metrics] address, or \"\" to turn them off)",
                  server.error().toString());
    return nullptr;
  }
  spdlog::info("serving metrics on http://{}/metrics and health on /healthz", (*server)->address().toString());
  return std::move(*server);
}

std::string managedSummary(const topology::Topology& topology) {
  return std::to_string(topology.onlineCpus().size()) + " CPUs (" + topology.onlineCpus().toString() + ") on " +
         std::to_string(topology.numaNodes().size()) + " NUMA node(s)";
}

// SIGHUP: re-read the file; keep the old configuration when the new one is invalid (as a file,
// or for this machine: the same checks as at start-up and in `topod config check`).
void reloadConfig(const RunOptions& options, Config& current, const topology::Topology& topology) {
  if (options.config_path.empty()) {
    spdlog::info("SIGHUP: running on embedded defaults (no --config), nothing to reload");
    return;
  }
  auto fresh = loadConfig(options.config_path);
  Status valid = fresh.has_value() ? validateConfigForMachine(*fresh, topology) : Status(fresh.error());
  if (!valid.has_value()) {
    spdlog::error("SIGHUP: {} is invalid, keeping the previous configuration:\n{}", options.config_path,
                  valid.error().message());
    return;
  }
  setLogLevel(fresh->log_level);
  bool restart_needed =
      fresh->policy != current.policy || !(fresh->nri == current.nri) || fresh->state_dir != current.state_dir ||
      fresh->state_sync != current.state_sync || fresh->state_journal_records != current.state_journal_records ||
      fresh->cgroup_root != current.cgroup_root || fresh->metrics != current.metrics || !(fresh->api == current.api);
  spdlog::info("SIGHUP: reloaded {}; log level {}", options.config_path, logLevelName(fresh->log_level));
  if (restart_needed) {
    spdlog::warn(
        "SIGHUP: policy, NRI, metrics, API, state_dir, state_sync or cgroup_root changes take effect at the next start "
        "(current allocations were made under the running settings)");
  }
  if (!(fresh->eviction == current.eviction)) {
    spdlog::warn("SIGHUP: [eviction] changes take effect at the next start (warnings in flight keep their settings)");
  }
  current.log_level = fresh->log_level;
}

// Blocks until the socket exists or a stop signal arrives. Returns the stop signal, or 0. Keeps
// systemd's watchdog fed meanwhile: a runtime that takes longer than WatchdogSec to appear must
// not get topod killed. An inotify watch on the socket's directory ends a wait the moment the
// socket appears; the checks with backoff remain for a watch that cannot be set up or misses.
int waitForSocket(const std::string& path, const sigset_t& signals, const Clock& clock, systemd::Notifier& notifier,
                  Config& config, const RunOptions& options, const topology::Topology& topology, Heartbeat& heartbeat) {
  const auto watchdog = std::chrono::duration_cast<std::chrono::milliseconds>(notifier.watchdogInterval());
  auto delay = kSocketWaitFirst;
  bool announced = false;
  nri::InotifySocketWatcher watcher(path);
  std::optional<Status> watching;
  for (;;) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return 0;
    if (!watching) {
      const pthread_t main_thread = ::pthread_self();
      watching = watcher.start([main_thread] { ::pthread_kill(main_thread, kSocketAppearedSignal); });
      if (!watching->has_value()) {
        spdlog::warn("cannot watch for the runtime's NRI socket: {}; checking with backoff only",
                     watching->error().toString());
      }
      continue;  // it may have appeared before the watch was set up
    }
    if (!announced) {
      spdlog::info(
          "waiting for the runtime's NRI socket {} (containerd or CRI-O with NRI enabled); "
          "connecting when it appears (checking at least every {} s)",
          path, std::chrono::duration_cast<std::chrono::seconds>(kSocketWaitMax).count());
      (void)notifier.status("waiting for the runtime socket " + path);
      announced = true;
    } else {
      spdlog::debug("still waiting for {}; next check in {} ms", path, delay.count());
    }
    const auto next_check = clock.now() + delay;
    for (auto left = delay; left.count() > 0;
         left = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - clock.now())) {
      int sig = waitSignal(signals, watchdog.count() > 0 ? std::min(left, watchdog) : left);
      if (sig == SIGHUP) {
        reloadConfig(options, config, topology);
      } else if (sig == kSocketAppearedSignal) {
        spdlog::debug("the runtime's NRI socket {} appeared", path);
        break;
      } else if (sig != 0) {
        return sig;
      }
      if (watchdog.count() > 0) (void)notifier.watchdog();
      heartbeat.beat();
    }
    delay = std::min(delay * 2, kSocketWaitMax);
  }
}

}  // namespace

int runRunCommand(const RunOptions& options) {
  // Signals are taken synchronously by the main thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, kSocketAppearedSignal);  // only ever from our own socket watcher
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Config config = defaultConfig();
  if (!options.config_path.empty()) {
    auto loaded = loadConfig(options.config_path);
    if (!loaded.has_value()) {
      std::fprintf(stderr, "topod: config %s is invalid:\n%s\n", options.config_path.c_str(),
                   loaded.error().message().c_str());
      return 1;
    }
    config = std::move(*loaded);
  }
  if (!options.state_dir.empty()) config.state_dir = options.state_dir;
  if (!options.nri_socket.empty()) config.nri.socket_path = options.nri_socket;
  setupLogging(config.log_level, systemd::stderrIsJournal() ? LogTarget::Journal : LogTarget::Stderr);
  // The one real clock: everything below that waits or times reads it (tests use FakeClock).
  const SteadyClock clock;
  auto started = clock.now();
  spdlog::info("topod starting; {}", describeConfig(config));

  Status dir = ensureDirectory(config.state_dir);
  if (dir.has_value()) dir = checkStateDirectory(config.state_dir);
  if (!dir.has_value()) {
    spdlog::error("state directory: {}", dir.error().toString());
    return 1;
  }
  auto lock = LockFile::acquire(config.state_dir + "/topod.lock");
  if (!lock.has_value()) {
    spdlog::error("{}", lock.error().toString());
    return 1;
  }
  auto topology = topology::loadTopology(options.topology);
  if (!topology.has_value()) {
    spdlog::error("topology {}: {}", options.topology, topology.error().toString());
    return 1;
  }
  Status machine_ok = validateConfigForMachine(config, *topology);
  if (!machine_ok.has_value()) {
    std::fprintf(stderr, "topod: config %s is invalid:\n%s\n", config.source.c_str(),
                 machine_ok.error().message().c_str());
    spdlog::error("{}", machine_ok.error().toString());
    return 1;
  }
  std::unique_ptr<cgroups::CgroupFs> cgroup_fs;
  auto opened = cgroups::openCgroupFs(config.cgroup_root);
  if (opened.has_value()) {
    cgroup_fs = std::move(*opened);
  } else {
    spdlog::warn("cgroups at {}: {}; drift detection reads only what the runtime reports", config.cgroup_root,
                 opened.error().toString());
  }
  // Where systemd owns pod slices (the kubelet's systemd driver), pod-level CPU quotas are set on
  // the unit too, or a daemon-reload would write the kubelet's back. Without systemd: the files.
  std::unique_ptr<systemd::UnitProperties> units;
  if (cgroup_fs != nullptr) {
    auto connected = systemd::connectUnitProperties();
    if (connected.has_value()) {
      units = std::move(*connected);
    } else {
      spdlog::info("systemd: {}; pod-level CPU quotas are written to the cgroup files only",
                   connected.error().toString());
    }
  }
  // Containers' device nodes are resolved against this machine's sysfs (and NVIDIA's procfs).
  topology::SysfsDeviceNodeResolver device_nodes("/");
  // Metrics are recorded whether or not they are served ([metrics] address): a few counters.
  metrics::Registry registry;
  AgentMetrics agent_metrics(registry, clock);
  cgroups::KernelPageMover page_mover;
  auto agent = Agent::create(*topology, AgentOptions{.policy = config.policy,
                                                     .state_dir = config.state_dir,
                                                     .cgroups = cgroup_fs.get(),
                                                     .checkpoint = {.sync = config.state_sync,
                                                                    .records_per_segment = config.state_journal_records,
                                                                    .report_background_error = logCheckpointError,
                                                                    .clock = &clock,
                                                                    .observe_journal = journalObserver(registry)},
                                                     .devices = &device_nodes,
                                                     .metrics = &agent_metrics,
                                                     .pages = &page_mover,
                                                     .clock = &clock,
                                                     .units = units.get()});
  if (!agent.has_value()) {
    spdlog::error("{}", agent.error().toString());
    return 1;
  }
  if ((*agent)->startupReportIsWarning()) {
    spdlog::warn("{}", (*agent)->startupReport());
  } else {
    spdlog::info("{}", (*agent)->startupReport());
  }
  spdlog::info("managing {} with policy {}:\n{}", managedSummary(*topology), config.policy.policy,
               topology::formatTopologyTree(*topology));
  spdlog::info("started in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started).count());

  // The local API ([api], docs/api.md), also while topod waits for the runtime; a socket another
  // agent serves is a start-up error.
  std::atomic<const nri::Plugin*> api_plugin{nullptr};
  AgentApiBackend api_backend(**agent, [&api_plugin] {
    const nri::Plugin* plugin = api_plugin.load();
    if (plugin == nullptr) return false;
    nri::PluginStats stats = plugin->stats();
    return stats.connections > stats.disconnections;
  });
  std::unique_ptr<api::Server> api_server;
  if (!config.api.socket_path.empty()) {
    auto served = api::Server::start(config.api.socket_path, api_backend);
    if (!served.has_value()) {
      spdlog::error("local API: {}", served.error().toString());
      return 1;
    }
    api_server = std::move(*served);
    spdlog::info("local API on {} (topod status, allocations, explain)", config.api.socket_path);
  }

  systemd::SdNotifier notifier;
  registerAgentReadings(registry, **agent);
  metrics::Counter& reconnects = registerNriMetrics(registry);
  Heartbeat heartbeat(clock);
  const auto tick_max = std::max<Clock::Duration>(notifier.watchdogInterval(), kSocketWaitMax);
  auto metrics_server = startMetricsServer(config.metrics.address, registry, **agent, heartbeat,
                                           std::max<Clock::Duration>(kHealthyHeartbeatAge, 3 * tick_max));
  (void)notifier.ready("managing " + managedSummary(*topology) + "; connecting to the runtime");

  auto env = nri::resolveLaunchEnvironment(::getenv, "topod", config.nri.plugin_name, config.nri.plugin_index);
  if (!env.has_value()) {
    spdlog::error("{}", env.error().toString());
    return 1;
  }
  if (env->inherited_fd < 0) {
    int sig = waitForSocket(config.nri.socket_path, signals, clock, notifier, config, options, *topology, heartbeat);
    if (sig != 0) {
      spdlog::info("signal {} while waiting for the runtime; stopping", sig);
      (void)notifier.stopping();
      // A clean stop folds the journal whether or not the runtime ever answered (what a restart
      // with the runtime down left there stays safe either way).
      Status closed = (*agent)->close();
      if (!closed.has_value()) {
        spdlog::warn("checkpoint: {}; the next start replays the journal", closed.error().toString());
      }
      spdlog::info("stopped; {} container allocations checkpointed in {}", (*agent)->state().containers().size(),
                   config.state_dir);
      return 0;
    }
  }
  auto connector = nri::makeConnector(*env, config.nri.socket_path);
  RepeatLimiter limiter(clock);
  nri::PluginOptions plugin_options;
  plugin_options.name = env->plugin_name;
  plugin_options.idx = env->plugin_idx;
  plugin_options.clock = &clock;
  // Reconnect the moment the runtime re-creates its socket (a restart), not when a backoff that
  // grew while it was down runs out: containers created in between would start unpinned.
  nri::InotifySocketWatcher socket_watcher(config.nri.socket_path);
  if (env->inherited_fd < 0) plugin_options.socket_watcher = &socket_watcher;
  plugin_options.on_error = [&limiter, &connector](const Error& error) {
    // The plugin's message says whether it reconnects (most errors are answered on a
    // connection that stays up).
    limiter.log("NRI (" + connector->describe() + "): " + error.toString());
  };
  Agent& agent_ref = **agent;
  plugin_options.on_synchronized = [&notifier, &agent_ref, &reconnects,
                                    first = true](const nri::RuntimeInfo& runtime) mutable {
    if (!first) reconnects.inc();
    first = false;
    (void)notifier.status("serving " + runtime.name + " " + runtime.version + "; " +
                          std::to_string(agent_ref.containerCount()) + " containers");
  };
  // NodeResourceTopology publishing ([kubernetes], docs/kubernetes.md): off unless enabled.
  std::unique_ptr<NrtPublishing> nrt;
  if (config.kubernetes.enabled) {
    auto started_nrt = NrtPublishing::start(config.kubernetes, *topology, config.policy, agent_ref, logClusterReport);
    if (!started_nrt.has_value()) {
      spdlog::error("{}", started_nrt.error().toString());
      return 1;
    }
    nrt = std::move(*started_nrt);
    spdlog::info("publishing NodeResourceTopology {} through {}", nrt->nodeName(), nrt->origin());
    NrtPublishing& publishing = *nrt;
    registry.counterCallback("topod_nrt_writes_total", "NodeResourceTopology objects written (created or updated).",
                             [&publishing] { return static_cast<double>(publishing.stats().writes); });
    registry.counterCallback("topod_nrt_write_failures_total",
                             "NodeResourceTopology publishing runs that ended in an error (retried).",
                             [&publishing] { return static_cast<double>(publishing.stats().failures); });
  }
  // The server's callbacks read the publisher: it stops first, whichever way this function ends.
  struct StopBeforePublisher {
    std::unique_ptr<metrics::HttpServer>& server;
    ~StopBeforePublisher() { server.reset(); }
  } stop_metrics_first{metrics_server};
  nri::EventHandler& inner_handler = nrt ? nrt->handler() : static_cast<nri::EventHandler&>(agent_ref);
  // Eviction warnings ([eviction], docs/eviction.md): off unless enabled.
  std::unique_ptr<EvictionResponding> eviction;
  if (config.eviction.enabled) {
    auto started_eviction = EvictionResponding::start(config.eviction, config.kubernetes, config.state_dir,
                                                      cgroup_fs.get(), inner_handler, logClusterReport, &registry);
    if (!started_eviction.has_value()) {
      spdlog::error("{}", started_eviction.error().toString());
      return 1;
    }
    eviction = std::move(*started_eviction);
    spdlog::info("answering Evictions as responder {}", config.eviction.responder_name);
    if (EvictionRequester* requester = eviction->requester(); requester != nullptr) {
      // A pod whose allocation a Synchronize cannot re-make gets an EvictionRequest, not silence.
      agent_ref.setLostAllocationNotifier([requester](const LostAllocation& lost) { requester->request(lost); });
      spdlog::info("requesting the eviction of pods whose CPUs topod cannot honour, as {}",
                   config.eviction.requester_name);
    }
    const EvictionWarnings* warnings = &eviction->warnings();
    registry.gaugeCallback("topod_eviction_warnings_in_flight",
                           "Pods warned of their eviction that have not finished (docs/eviction.md)", [warnings] {
                             double in_flight = 0;
                             for (const auto& warning : warnings->warnings()) {
                               if (warning.phase == WarningPhase::Warning) in_flight += 1;
                             }
                             return in_flight;
                           });
  }
  // The gauge above reads `eviction`: the server stops before it goes, too.
  StopBeforePublisher stop_metrics_before_eviction{metrics_server};
  MeteredHandler handler(eviction ? eviction->handler() : inner_handler, registry, clock);
  nri::Plugin plugin(plugin_options, handler, *connector);
  UnsolicitedSender sender(agent_ref, plugin);
  agent_ref.setPendingNotifier([&sender] { sender.wake(); });
  // The API asks the plugin whether the runtime is connected while the plugin lives: on every
  // way out, the server stops (waiting for its calls) before the plugin goes.
  api_plugin = &plugin;
  struct StopApiFirst {
    std::unique_ptr<api::Server>& server;
    ~StopApiFirst() {
      if (server) server->stop();
    }
  } stop_api_first{api_server};
  Status plugin_started = plugin.start();
  if (!plugin_started.has_value()) {
    spdlog::error("NRI plugin: {}", plugin_started.error().toString());
    return 1;
  }
  spdlog::info("connecting to the runtime through {} as plugin {}-{}", connector->describe(), plugin_options.idx,
               plugin_options.name);

  std::atomic<bool> stopping{false};
  std::thread plugin_watch;
  if (!connector->canReconnect()) {
    // A runtime-launched plugin ends with its connection; the runtime starts a new process.
    plugin_watch = std::thread([&plugin, &stopping] {
      Status why = plugin.wait();
      if (!stopping) {
        spdlog::info("the runtime closed our connection ({}); stopping",
                     why.has_value() ? "ok" : why.error().toString());
        ::kill(::getpid(), SIGTERM);
      }
    });
  }

  auto watchdog = std::chrono::duration_cast<std::chrono::milliseconds>(notifier.watchdogInterval());
  auto tick = watchdog.count() > 0 ? watchdog : std::chrono::milliseconds(1000);
  for (;;) {
    int sig = waitSignal(signals, tick);
    heartbeat.beat();
    if (sig == SIGHUP) {
      reloadConfig(options, config, *topology);
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("signal {}: stopping", sig);
      break;
    }
    if (watchdog.count() > 0) (void)notifier.watchdog();
  }
  stopping = true;
  (void)notifier.stopping();
  agent_ref.setPendingNotifier(nullptr);
  agent_ref.setLostAllocationNotifier(nullptr);
  if (api_server) api_server->stop();
  plugin.stop();
  if (plugin_watch.joinable()) plugin_watch.join();
  Status closed = agent_ref.close();
  if (!closed.has_value()) {
    spdlog::warn("checkpoint: {}; the next start replays the journal", closed.error().toString());
  }
  spdlog::info("stopped; {} container allocations checkpointed in {}", agent_ref.state().containers().size(),
               config.state_dir);
  return 0;
}

}  // namespace topod::agent
