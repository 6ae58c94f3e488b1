// Agent figures for issue 5: CreateContainer handling time (p50/p99) inside the agent with 1,000
// live containers, resident memory at idle and with 1,000 containers, and start-up time with a
// 1,000-container checkpoint. A plain program that prints figures (no pass/fail).
//
//   build/bench/agent_bench [STATE_DIR [POLICY [SYNC]]]
//     POLICY defaults to the embedded default, static; SYNC is every-change (the default: the
//     journal record is fdatasync'd before every reply) or background.
//
// Machine model: 2 NUMA nodes x 32 cores x 2 threads (128 CPUs), static policy, 1 reserved CPU.
// The live set is 1,000 containers: 940 Burstable (shared pool) and 60 Guaranteed 1-CPU
// (exclusive). Measured events alternate a Burstable and a Guaranteed create, each followed by
// its removal so the live count stays at 1,000; a Guaranteed create also answers with updates
// for every shared container (they leave the CPU that became exclusive). Every change is
// journaled before the reply, into STATE_DIR (default: a fresh directory in /tmp).
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "config/config.h"

namespace {

using namespace topod;
// Benchmarks measure real elapsed time (topod::Clock is the injectable one).
using Stopwatch = std::chrono::steady_clock;

constexpr int kLive = 1000;
constexpr int kGuaranteedLive = 60;
constexpr int kSamples = 400;

topology::Topology benchTopology() {
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 128; ++cpu) {
    builder.addCpu(
        {.id = cpu, .package = cpu / 64, .die = 0, .core_id = (cpu / 2) % 32, .l3 = cpu / 64, .numa = cpu / 64});
  }
  builder.addNumaNode({.id = 0, .memory_bytes = 256ULL << 30});
  builder.addNumaNode({.id = 1, .memory_bytes = 256ULL << 30});
  return builder.build().value();
}

nri::Pod pod(const std::string& uid, QosClass qos) {
  nri::Pod p;
  p.id = "sb-" + uid;
  p.uid = uid;
  p.name = uid;
  p.namespace_name = "bench";
  p.cgroup_parent = qos == QosClass::Guaranteed ? "/kubepods/pod" + uid : "/kubepods/burstable/pod" + uid;
  return p;
}

nri::Container container(const nri::Pod& p, bool guaranteed) {
  nri::Container c;
  c.id = "c-" + p.uid;
  c.pod_id = p.id;
  c.name = "app";
  c.state = nri::ContainerState::Running;
  c.cgroups_path = p.cgroup_parent + "/" + c.id;
  c.resources.cpu_period = 100000;
  if (guaranteed) {
    c.resources.cpu_shares = 1024;
    c.resources.cpu_quota = 100000;
    c.resources.memory_limit = 1LL << 30;
  } else {
    c.resources.cpu_shares = 256;
    c.resources.cpu_quota = -1;
  }
  return c;
}

long rssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  std::size_t index = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[index];
}

double msSince(Stopwatch::time_point start) {
  return std::chrono::duration<double, std::milli>(Stopwatch::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
    std::filesystem::create_directories(dir);
  } else {
    std::string pattern = "/tmp/topod-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
  }
  spdlog::set_level(spdlog::level::warn);  // the agent logs every event at info
  topology::Topology topology = benchTopology();
  agent::AgentOptions options{.policy = agent::defaultConfig().policy, .state_dir = dir};
  if (argc > 2) options.policy.policy = argv[2];
  if (argc > 3) {
    std::string sync = argv[3];
    if (sync != "every-change" && sync != "background") {
      std::fprintf(stderr, "SYNC must be every-change or background, not %s\n", sync.c_str());
      return 2;
    }
    options.checkpoint.sync = sync == "background" ? agent::JournalSync::Background : agent::JournalSync::EveryChange;
  }

  long rss_before = rssKiB();
  auto created = agent::Agent::create(topology, options);
  if (!created.has_value()) {
    std::fprintf(stderr, "agent: %s\n", created.error().toString().c_str());
    return 1;
  }
  auto& agent = **created;
  (void)agent.onSynchronize({}, {});
  long rss_idle = rssKiB();

  std::vector<nri::Pod> pods;
  std::vector<nri::Container> containers;
  for (int i = 0; i < kLive; ++i) {
    bool guaranteed = i % (kLive / kGuaranteedLive) == 0 && i / (kLive / kGuaranteedLive) < kGuaranteedLive;
    pods.push_back(pod("live-" + std::to_string(i), guaranteed ? QosClass::Guaranteed : QosClass::Burstable));
    containers.push_back(container(pods.back(), guaranteed));
    (void)agent.onRunPodSandbox(pods.back());
    auto reply = agent.onCreateContainer(pods.back(), containers.back());
    if (!reply.has_value()) {
      std::fprintf(stderr, "populating: %s\n", reply.error().toString().c_str());
      return 1;
    }
  }
  long rss_full = rssKiB();

  std::vector<double> all;
  std::vector<double> shared_ms;
  std::vector<double> exclusive_ms;
  for (int i = 0; i < kSamples; ++i) {
    bool guaranteed = i % 2 == 1;
    nri::Pod p = pod("sample-" + std::to_string(i), guaranteed ? QosClass::Guaranteed : QosClass::Burstable);
    nri::Container c = container(p, guaranteed);
    (void)agent.onRunPodSandbox(p);
    auto start = Stopwatch::now();
    auto reply = agent.onCreateContainer(p, c);
    double ms = msSince(start);
    if (!reply.has_value()) {
      std::fprintf(stderr, "sample: %s\n", reply.error().toString().c_str());
      return 1;
    }
    all.push_back(ms);
    (guaranteed ? exclusive_ms : shared_ms).push_back(ms);
    (void)agent.onStopContainer(p, c);
    (void)agent.onRemovePodSandbox(p);
  }

  // Start-up with the 1,000-container checkpoint: restore, then Synchronize with the runtime's
  // list of the same containers (the work a restarted agent does before serving). The first
  // agent goes first, as a restarted process would (one agent per state directory).
  created->reset();
  auto start = Stopwatch::now();
  auto restarted = agent::Agent::create(topology, options);
  double restore_ms = msSince(start);
  if (!restarted.has_value()) return 1;
  for (auto& c : containers) c.resources.cpuset_cpus.reset();
  auto sync_start = Stopwatch::now();
  auto synced = (*restarted)->onSynchronize(pods, containers);
  double sync_ms = msSince(sync_start);
  double startup_ms = msSince(start);

  std::printf("topod agent benchmark (state dir %s; journal %s)\n", dir.c_str(),
              options.checkpoint.sync == agent::JournalSync::EveryChange ? "fdatasync'd before every reply"
                                                                         : "synced in the background");
  std::printf("topology: 128 CPUs, 2 NUMA nodes; policy %s, 1 reserved CPU; %d live containers (%d exclusive)\n",
              options.policy.policy.c_str(), kLive, kGuaranteedLive);
  std::printf("CreateContainer handling, %d samples: p50 %.3f ms, p99 %.3f ms\n", kSamples, percentile(all, 0.5),
              percentile(all, 0.99));
  std::printf("  shared (Burstable):         p50 %.3f ms, p99 %.3f ms\n", percentile(shared_ms, 0.5),
              percentile(shared_ms, 0.99));
  std::printf("  exclusive (Guaranteed 1 CPU, + %d updates): p50 %.3f ms, p99 %.3f ms\n", kLive - kGuaranteedLive,
              percentile(exclusive_ms, 0.5), percentile(exclusive_ms, 0.99));
  std::printf("resident memory: process start %ld KiB, agent idle %ld KiB, with %d containers %ld KiB\n", rss_before,
              rss_idle, kLive, rss_full);
  std::printf(
      "start-up with a %d-container checkpoint: restore %.2f ms + synchronize %.2f ms = %.2f ms (%zu updates)\n", kLive,
      restore_ms, sync_ms, startup_ms, synced.has_value() ? synced->size() : 0);
  if (argc <= 1) std::filesystem::remove_all(dir);
  return 0;
}
