// `topod nri-probe`: registers with the runtime as an NRI plugin, prints every event it
// receives, answers with neutral decisions (no adjustment, no updates), and runs until SIGINT/
// SIGTERM, the runtime-provided connection ends, or --exit-after-syncs synchronizations. It
// checks a node's NRI setup without touching any container, and is how the tests drive the
// plugin code as a real process.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "agent/nri_mapping.h"
#include "cli/commands.h"
#include "nri/plugin.h"

namespace topod::agent {
namespace {

// Prints one line per event; stdout is line-buffered by hand (fflush) so that a reader sees
// events as they happen.
class ProbeHandler final : public nri::EventHandler {
 public:
  void onConfigure(const nri::RuntimeInfo& runtime) override {
    (void)print("Configure runtime=" + runtime.name + " version=" + runtime.version +
                " nri=" + (runtime.nri_version.empty() ? "-" : runtime.nri_version) +
                " events=" + hex(runtime.subscribed) + " valid=" + hex(runtime.valid_events));
  }
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>& pods,
                                                 const std::vector<nri::Container>& containers) override {
    (void)print("Synchronize pods=" + std::to_string(pods.size()) + " containers=" + std::to_string(containers.size()));
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod& pod, const nri::Container& c) override {
    (void)print("CreateContainer " + describe(pod, &c));
    return nri::CreateReply{};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod& pod, const nri::Container& c,
                                                     const nri::LinuxResources&) override {
    (void)print("UpdateContainer " + describe(pod, &c));
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod& pod, const nri::Container& c) override {
    (void)print("StopContainer " + describe(pod, &c));
    return std::vector<nri::Update>{};
  }
  Status onRunPodSandbox(const nri::Pod& pod) override { return print("RunPodSandbox " + describe(pod)); }
  Status onStopPodSandbox(const nri::Pod& pod) override { return print("StopPodSandbox " + describe(pod)); }
  Status onRemovePodSandbox(const nri::Pod& pod) override { return print("RemovePodSandbox " + describe(pod)); }
  Status onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources&, const nri::LinuxResources&) override {
    return print("UpdatePodSandbox " + describe(pod));
  }
  Status onPostUpdatePodSandbox(const nri::Pod& pod) override { return print("PostUpdatePodSandbox " + describe(pod)); }
  Status onPostCreateContainer(const nri::Pod& pod, const nri::Container& c) override {
    return print("PostCreateContainer " + describe(pod, &c));
  }
  Status onStartContainer(const nri::Pod& pod, const nri::Container& c) override {
    return print("StartContainer " + describe(pod, &c) + " pid=" + std::to_string(c.pid));
  }
  Status onPostStartContainer(const nri::Pod& pod, const nri::Container& c) override {
    return print("PostStartContainer " + describe(pod, &c));
  }
  Status onPostUpdateContainer(const nri::Pod& pod, const nri::Container& c) override {
    return print("PostUpdateContainer " + describe(pod, &c));
  }
  Status onRemoveContainer(const nri::Pod& pod, const nri::Container& c) override {
    return print("RemoveContainer " + describe(pod, &c));
  }

  Status print(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
    return okStatus();
  }

 private:
  static std::string hex(nri::EventMask mask) {
    char text[16];
    std::snprintf(text, sizeof(text), "0x%04x", mask);
    return text;
  }
  static std::string describe(const nri::Pod& pod, const nri::Container* c = nullptr) {
    std::string text = pod.namespace_name + "/" + pod.name + " qos=" + std::string(qosClassName(qosClassOf(pod, c)));
    if (c != nullptr) text += " container=" + c->name + " id=" + c->id;
    return text;
  }

  std::mutex mu_;
};

}  // namespace

int runNriProbeCommand(const NriProbeOptions& options) {
  auto env = nri::resolveLaunchEnvironment([](const char* key) { return std::getenv(key); }, options.argv0,
                                           options.name, options.idx);
  if (!env.has_value()) {
    std::fprintf(stderr, "topod nri-probe: %s\n", env.error().toString().c_str());
    return 1;
  }
  std::unique_ptr<nri::Connector> connector = nri::makeConnector(*env, options.socket_path);

  // Signals are taken synchronously by this thread; block them before the plugin's thread
  // starts so that it inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ProbeHandler handler;
  nri::PluginOptions plugin_options;
  plugin_options.name = env->plugin_name;
  plugin_options.idx = env->plugin_idx;
  plugin_options.events = options.all_events ? nri::kAllServedEvents : nri::kTopodEvents;
  plugin_options.on_error = [&handler](const Error& error) { (void)handler.print("error: " + error.toString()); };
  nri::Plugin plugin(plugin_options, handler, *connector);
  if (Status started = plugin.start(); !started.has_value()) {
    std::fprintf(stderr, "topod nri-probe: %s\n", started.error().toString().c_str());
    return 1;
  }
  Status final_status = okStatus();
  std::thread waiter([&] {
    final_status = plugin.wait();
    ::kill(::getpid(), SIGUSR1);  // wake the signal loop: the plugin stopped by itself
  });
  while (true) {
    const timespec tick{0, 100 * 1000 * 1000};  // checks --exit-after-syncs every 100 ms
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGINT || signal == SIGTERM || signal == SIGUSR1) break;
    if (options.exit_after_syncs > 0 && plugin.stats().synchronizations >= options.exit_after_syncs) break;
  }
  plugin.stop();
  waiter.join();
  const nri::PluginStats stats = plugin.stats();
  std::fprintf(stdout, "stopped connections=%llu synchronizations=%llu events=%llu errors=%llu\n",
               static_cast<unsigned long long>(stats.connections),
               static_cast<unsigned long long>(stats.synchronizations), static_cast<unsigned long long>(stats.events),
               static_cast<unsigned long long>(stats.errors));
  if (!final_status.has_value() && final_status.error().code() != ErrorCode::Cancelled) {
    std::fprintf(stderr, "topod nri-probe: %s\n", final_status.error().toString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace topod::agent
