// nri-runtime-sim: plays a runtime for one plugin, for manual checks of any NRI plugin binary.
//   nri-runtime-sim --socket /tmp/nri.sock [--personality containerd-1.7] [--pods 50]
//                   [--containers-per-pod 10] [--split 64] [--wait-ms 10000]
// Populates the node, waits for the plugin to register and synchronize, drives one pod and one
// container through every event, prints what happened and exits 0 when all went well.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace {

using topod::nri::sim::RuntimeSim;

int fail(const std::string& what) {
  std::fprintf(stderr, "nri-runtime-sim: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  topod::nri::sim::SimOptions options;
  std::string personality = "containerd-1.7";
  long pods = 10;
  long per_pod = 3;
  long wait_ms = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    char* end = nullptr;
    const long number = std::strtol(value.c_str(), &end, 10);
    const bool numeric = end != nullptr && *end == '\0' && number >= 0;
    if (flag == "--socket") {
      options.socket_path = value;
    } else if (flag == "--personality") {
      personality = value;
    } else if (flag == "--pods" && numeric) {
      pods = number;
    } else if (flag == "--containers-per-pod" && numeric) {
      per_pod = number;
    } else if (flag == "--split" && numeric) {
      options.sync_objects_per_message = static_cast<size_t>(number);
    } else if (flag == "--wait-ms" && numeric) {
      wait_ms = number;
    } else {
      return fail("bad option " + flag + " " + value);
    }
  }
  if (options.socket_path.empty()) return fail("--socket is required");
  auto chosen = topod::nri::sim::Personality::byName(personality);
  if (!chosen.has_value()) return fail(chosen.error().message());
  options.personality = *chosen;

  RuntimeSim sim(options);
  for (long p = 0; p < pods; ++p) {
    topod::nri::Pod pod;
    pod.id = "pod" + std::to_string(p);
    pod.uid = "uid-" + std::to_string(p);
    pod.namespace_name = "default";
    pod.name = "pod-" + std::to_string(p);
    pod.cgroup_parent = "kubepods-burstable-poduid_" + std::to_string(p) + ".slice";
    sim.addPod(pod);
    for (long c = 0; c < per_pod; ++c) {
      topod::nri::Container container;
      container.id = pod.id + "-c" + std::to_string(c);
      container.pod_id = pod.id;
      container.name = "ctr" + std::to_string(c);
      container.state = topod::nri::ContainerState::Running;
      sim.addContainer(container);
    }
  }
  if (auto started = sim.start(); !started.has_value()) return fail(started.error().toString());
  auto plugin = sim.waitForPlugin(std::chrono::milliseconds(wait_ms));
  if (!plugin.has_value()) return fail(plugin.error().toString());
  std::printf("plugin %s-%s registered, events 0x%04x, %zu sync messages, %zu sync updates\n", plugin->idx.c_str(),
              plugin->name.c_str(), plugin->events, plugin->sync_messages, plugin->sync_updates.size());

  topod::nri::Pod pod;
  pod.id = "sim-pod";
  pod.uid = "sim-uid";
  pod.namespace_name = "default";
  pod.name = "sim";
  pod.cgroup_parent = "kubepods-podsim_uid.slice";
  topod::nri::Container container;
  container.id = "sim-ctr";
  container.pod_id = pod.id;
  container.name = "main";
  container.resources.cpu_shares = 2048;
  int failures = 0;
  auto check = [&failures](const char* event, const topod::Status& status) {
    std::printf("%-22s %s\n", event, status.has_value() ? "ok" : status.error().toString().c_str());
    failures += status.has_value() ? 0 : 1;
  };
  check("RunPodSandbox", sim.runPodSandbox(pod));
  auto created = sim.createContainer(container);
  if (created.has_value()) {
    std::printf("%-22s ok, adjust cpus=%s\n", "CreateContainer",
                created->adjustment.resources.cpuset_cpus
                    ? created->adjustment.resources.cpuset_cpus->toString().c_str()
                    : "-");
  } else {
    check("CreateContainer", created.error());
  }
  check("PostCreateContainer", sim.postCreateContainer(container.id));
  check("StartContainer", sim.startContainer(container.id, 4242));
  check("PostStartContainer", sim.postStartContainer(container.id));
  auto updated = sim.updateContainer(container.id, topod::nri::LinuxResources{.cpu_shares = 1024});
  check("UpdateContainer", updated.has_value() ? topod::okStatus() : topod::Status(updated.error()));
  check("PostUpdateContainer", sim.postUpdateContainer(container.id));
  check("UpdatePodSandbox", sim.updatePodSandbox(pod.id, {}, {}));
  check("PostUpdatePodSandbox", sim.postUpdatePodSandbox(pod.id));
  auto stopped = sim.stopContainer(container.id);
  check("StopContainer", stopped.has_value() ? topod::okStatus() : topod::Status(stopped.error()));
  check("RemoveContainer", sim.removeContainer(container.id));
  check("StopPodSandbox", sim.stopPodSandbox(pod.id));
  check("RemovePodSandbox", sim.removePodSandbox(pod.id));
  sim.stop();
  return failures == 0 ? 0 : 1;
}
