// AgentHarness: an Agent behind a real nri::Plugin, the runtime's side of NRI (SimRuntime) on the
// other end of a FakeNriConnector, and the unsolicited-update sender `topod run` has, for the
// agent's end-to-end tests. stop() and start() again is a restart of topod: the runtime's model
// stays and the new agent is synchronized against it.
#pragma once

#include <memory>
#include <thread>

#include "agent/agent.h"
#include "nri/plugin.h"
#include "tests/agent/sim_runtime.h"
#include "tests/fakes/fake_nri_connector.h"

namespace topod::testing {

class AgentHarness {
 public:
  ~AgentHarness() { stop(); }

  // Serves `created` (an Agent::create result) and runs the runtime's handshake.
  Status start(Result<std::unique_ptr<agent::Agent>> created) {
    if (!created.has_value()) return created.error();
    agent = std::move(*created);
    nri::PluginOptions options;
    options.backoff_initial = std::chrono::milliseconds(10);
    connector = std::make_unique<nri::testing::FakeNriConnector>();
    plugin = std::make_unique<nri::Plugin>(options, *agent, *connector);
    agent->setPendingNotifier([this] { wakeSender(); });
    TOPOD_RETURN_IF_ERROR(plugin->start());
    if (runtime) {
      runtime->reconnect(connector->waitForPeer());
    } else {
      runtime = std::make_unique<SimRuntime>(connector->waitForPeer());
    }
    return runtime->handshake();
  }

  void stop() {
    if (!agent) return;
    agent->setPendingNotifier(nullptr);
    if (sender_.joinable()) sender_.join();
    plugin->stop();
    plugin.reset();
    agent.reset();
  }

  // RunPodSandbox when the pod is new, then CreateContainer.
  Result<nri::Adjustment> add(const nri::Pod& pod, const nri::Container& container) {
    if (runtime->pods.count(pod.id) == 0) TOPOD_RETURN_IF_ERROR(runtime->runPod(pod));
    return runtime->createContainer(container);
  }

  std::unique_ptr<agent::Agent> agent;
  std::unique_ptr<nri::testing::FakeNriConnector> connector;
  std::unique_ptr<nri::Plugin> plugin;
  std::unique_ptr<SimRuntime> runtime;

 private:
  // What run_command's sender does: send pending updates from a thread that is not the plugin's.
  void wakeSender() {
    if (sender_.joinable()) sender_.join();
    sender_ = std::thread([this] {
      agent::PendingUpdates pending = agent->takePendingUpdates();
      if (pending.updates.empty()) return;
      auto failed = plugin->updateContainers(pending.updates);
      agent->unsolicitedDone(pending, failed.has_value() ? *failed : pending.updates);
    });
  }

  std::thread sender_;
};

}  // namespace topod::testing
