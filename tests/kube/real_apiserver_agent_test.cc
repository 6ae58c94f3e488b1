// `topod run`'s publishing path against the real API server: an Agent wrapped by
// NrtPublishing's handler, driven with NRI events as the plugin would deliver them; the object on
// the server must follow every pin and release. Run by run-real-apiserver-test.sh.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "agent/nrt_publishing.h"
#include "config/config.h"
#include "kube/nrt_object.h"
#include "tests/agent/agent_test_support.h"
#include "tests/kube/server_wait.h"

namespace topod::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The zones' available CPUs and the fingerprint as the server holds them ("" when absent).
std::string serverView(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  std::string out;
  for (const auto& zone : object["zones"]) {
    for (const auto& r : zone["resources"]) {
      if (r["name"] == "cpu") out += zone["name"].get<std::string>() + "=" + r["available"].dump() + " ";
    }
  }
  for (const auto& a : object["attributes"]) {
    if (a["name"] == "nodeTopologyPodsFingerprint") out += a["value"].get<std::string>();
  }
  return out;
}

// VmRSS of this process, KiB.
long residentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string expectedView(int available0, int available1, const std::vector<kube::PodName>& pods) {
  return "node-0=\"" + std::to_string(available0) + "\" node-1=\"" + std::to_string(available1) + "\" " +
         kube::podFingerprint(pods);
}

TEST(RealApiServerAgentTest, ObjectFollowsEveryPinAndRelease) {
  const char* run = std::getenv("TOPOD_KUBE_RUN_DIR");
  if (run == nullptr) GTEST_SKIP() << "TOPOD_KUBE_RUN_DIR not set (run through run-real-apiserver-test.sh)";
  auto config = kube::loadKubeconfig(std::string(run) + "/kubeconfig");
  ASSERT_TRUE(config) << config.error().toString();
  auto client = kube::Client::create(*config, {});
  ASSERT_TRUE(client);

  testing::TempDir dir;
  auto topology = testing::twoNodeTopology();
  AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir.path()};
  options.policy.reserved_cpus = CpuSet{0};
  options.policy.reserved_cpu_count = 1;
  auto agent = Agent::create(topology, options);
  ASSERT_TRUE(agent) << agent.error().toString();
  KubernetesConfig kube_config{.enabled = true,
                               .kubeconfig = std::string(run) + "/kubeconfig",
                               .node_name = "agent-node",
                               .publish_interval_ms = 1000};  // the default
  const long rss_before_kib = residentKib();
  auto publishing = NrtPublishing::start(kube_config, topology, options.policy, **agent, nullptr);
  ASSERT_TRUE(publishing) << publishing.error().toString();
  nri::EventHandler& handler = (*publishing)->handler();

  // The server's view once it matches `want` (watched, not polled), or the last one within 5 s.
  auto waitFor = [&](const std::string& want) {
    auto seen = kube::testing::watchUntil(
        **client, kube::kNrtCollection, "agent-node",
        [&want](const nlohmann::json& object) { return serverView(object) == want; }, seconds(5), steadyClock());
    return serverView(seen.last);
  };

  ASSERT_TRUE(handler.onSynchronize({}, {}));
  EXPECT_EQ(waitFor(expectedView(7, 8, {})), expectedView(7, 8, {}));
  auto pod = testing::makePod("u1", QosClass::Guaranteed);
  ASSERT_TRUE(handler.onRunPodSandbox(pod));
  auto container = testing::guaranteed(pod, "app", 4000);
  auto reply = handler.onCreateContainer(pod, container);
  ASSERT_TRUE(reply) << reply.error().toString();
  auto state = (*agent)->state();
  ASSERT_EQ(state.totals().exclusive_cpus.size(), 4);
  bool on_node0 = state.totals().exclusive_cpus.first() < 8;
  std::vector<kube::PodName> pods = {{"default", "pod-u1"}};
  std::string pinned = on_node0 ? expectedView(3, 8, pods) : expectedView(7, 4, pods);
  EXPECT_EQ(waitFor(pinned), pinned) << "the pin is published";
  ASSERT_TRUE(handler.onStopContainer(pod, container));
  ASSERT_TRUE(handler.onRemoveContainer(pod, container));
  ASSERT_TRUE(handler.onRemovePodSandbox(pod));
  EXPECT_EQ(waitFor(expectedView(7, 8, {})), expectedView(7, 8, {})) << "the release is published";

  // Pod churn at 1,000 creations per minute for 15 s (each pod created, then removed 2 s later):
  // the publisher's writes stay at about one per interval, whatever the rate.
  const uint64_t writes_before = (*publishing)->stats().writes;
  const auto churn_start = std::chrono::steady_clock::now();
  const auto period = milliseconds(60);  // 1,000 per minute
  struct Live {
    nri::Pod pod;
    nri::Container container;
    bool admitted;
  };
  std::vector<Live> live;
  auto removeOldest = [&] {
    const Live& oldest = live.front();
    if (oldest.admitted) {
      ASSERT_TRUE(handler.onRemoveContainer(oldest.pod, oldest.container));
    }
    ASSERT_TRUE(handler.onRemovePodSandbox(oldest.pod));
    live.erase(live.begin());
  };
  int created = 0;
  int admitted = 0;
  for (auto next = churn_start; next < churn_start + seconds(15); next += period) {
    std::this_thread::sleep_until(next);  // pacing the workload, not synchronising
    auto p = testing::makePod("churn" + std::to_string(created), QosClass::Guaranteed);
    auto c = testing::guaranteed(p, "app", 1000);
    ASSERT_TRUE(handler.onRunPodSandbox(p));
    bool ok = handler.onCreateContainer(p, c).has_value();
    admitted += ok ? 1 : 0;
    live.push_back({p, c, ok});
    ++created;
    // Ten pods alive at once (the machine has 15 allocatable CPUs).
    if (live.size() > 10) removeOldest();
  }
  const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - churn_start).count() / 60;
  const uint64_t writes = (*publishing)->stats().writes - writes_before;
  std::printf("pod churn: %d creations (%d admitted) in %.2f min (%.0f/min): %llu writes (%.0f/min, interval 1 s)\n",
              created, admitted, minutes, created / minutes, static_cast<unsigned long long>(writes), writes / minutes);
  EXPECT_EQ(admitted, created);
  EXPECT_LE(writes / minutes, 61.0) << "at most one write per interval";
  std::printf("resident memory: %ld KiB before the client and publisher started, %ld KiB after the churn\n",
              rss_before_kib, residentKib());
  while (!live.empty()) removeOldest();
  EXPECT_EQ(waitFor(expectedView(7, 8, {})), expectedView(7, 8, {})) << "converged after the churn";
  publishing->reset();
  ASSERT_TRUE((*client)->remove(kube::nrtPath("agent-node")));
}

}  // namespace
}  // namespace topod::agent
