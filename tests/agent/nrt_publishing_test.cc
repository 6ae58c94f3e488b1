#include "agent/nrt_publishing.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "config/config.h"
#include "topology/loaders.h"

namespace topod::agent {
namespace {

// Answers every event with success and counts them.
class CountingHandler final : public nri::EventHandler {
 public:
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    ++events;
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override {
    ++events;
    return nri::CreateReply{};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    ++events;
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    ++events;
    return std::vector<nri::Update>{};
  }
  int events = 0;
};

nri::Pod pod(const std::string& id, const std::string& ns, const std::string& name) {
  nri::Pod p;
  p.id = id;
  p.uid = "uid-" + id;
  p.namespace_name = ns;
  p.name = name;
  return p;
}

TEST(ObservingHandlerTest, ForwardsEveryEventThenSignalsAndTracksPods) {
  CountingHandler inner;
  int changes = 0;
  ObservingHandler handler(inner, [&] { ++changes; });
  ASSERT_TRUE(handler.onSynchronize({pod("a", "ns1", "p1"), pod("b", "ns2", "p2")}, {}));
  EXPECT_EQ(handler.pods().size(), 2u);
  ASSERT_TRUE(handler.onRunPodSandbox(pod("c", "ns1", "p3")));
  nri::Container container;
  container.id = "c1";
  container.pod_id = "c";
  container.name = "app";
  ASSERT_TRUE(handler.onCreateContainer(pod("c", "ns1", "p3"), container));
  ASSERT_TRUE(handler.onStopContainer(pod("c", "ns1", "p3"), container));
  ASSERT_TRUE(handler.onRemoveContainer(pod("c", "ns1", "p3"), container));
  ASSERT_TRUE(handler.onRemovePodSandbox(pod("a", "ns1", "p1")));
  EXPECT_EQ(inner.events, 3);  // the other events have default answers
  EXPECT_EQ(changes, 6);
  auto pods = handler.pods();
  ASSERT_EQ(pods.size(), 2u);
  std::set<std::string> names;
  for (const auto& p : pods) names.insert(p.namespace_name + "/" + p.name);
  EXPECT_EQ(names, (std::set<std::string>{"ns2/p2", "ns1/p3"}));
}

TEST(BuildNrtObjectTest, AttributesFollowThePolicyOptions) {
  auto t = topology::loadTopology("xml:" + std::string(TOPOD_FIXTURES_DIR) + "/topology/intel-2s-2x20c-smt2.xml");
  ASSERT_TRUE(t.has_value());
  policies::PolicyOptions options = Config::defaultPolicyOptions();
  options.topology_manager.policy = policies::TopologyManagerPolicy::SingleNumaNode;
  options.topology_manager.scope = policies::TopologyManagerScope::Pod;
  std::vector<kube::PodName> pods = {
      {"production", "jaeger-dpgjk"}, {"production", "nginx-rt684"}, {"production", "envoy-g9m22"}};
  auto object = buildNrtObject("n1", *t, options, policies::State{}, &pods);
  ASSERT_TRUE(object) << object.error().toString();
  std::map<std::string, std::string> attrs;
  for (const auto& a : (*object)["attributes"]) attrs[a["name"]] = a["value"];
  EXPECT_EQ(attrs["topologyManagerPolicy"], "single-numa-node");
  EXPECT_EQ(attrs["topologyManagerScope"], "pod");
  EXPECT_EQ(attrs["nodeTopologyPodsFingerprint"], "pfp0v001607b76a0e9d3aeb4");
  // One reserved CPU (the default count) leaves 39 of node 0's 40 allocatable.
  EXPECT_EQ((*object)["zones"][0]["resources"][0]["allocatable"], "39");
  auto without = buildNrtObject("n1", *t, options, policies::State{}, nullptr);
  ASSERT_TRUE(without);
  EXPECT_EQ((*without)["attributes"].size(), 3u) << "no fingerprint when the pods are unknown";
}

TEST(BuildNrtObjectTest, TopologyAwarePublishesContainerScopeWhateverTheScopeSays) {
  auto t = topology::loadTopology("xml:" + std::string(TOPOD_FIXTURES_DIR) + "/topology/intel-2s-2x20c-smt2.xml");
  ASSERT_TRUE(t.has_value());
  policies::PolicyOptions options = Config::defaultPolicyOptions();
  options.policy = "topology-aware";
  options.topology_manager.policy = policies::TopologyManagerPolicy::SingleNumaNode;
  options.topology_manager.scope = policies::TopologyManagerScope::Pod;
  auto object = buildNrtObject("n1", *t, options, policies::State{}, nullptr);
  ASSERT_TRUE(object) << object.error().toString();
  std::map<std::string, std::string> attrs;
  for (const auto& a : (*object)["attributes"]) attrs[a["name"]] = a["value"];
  EXPECT_EQ(attrs["topologyManagerPolicy"], "single-numa-node");
  // It places one container at a time: a pod-scope Filter would refuse pods it admits.
  EXPECT_EQ(attrs["topologyManagerScope"], "container");
}

TEST(KubernetesConfigTest, TableIsParsedAndOffByDefault) {
  auto defaults = parseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->kubernetes.enabled);
  auto config = parseConfig(R"([kubernetes]
enabled = true
kubeconfig = "/etc/topod/kubeconfig"
node_name = "worker-1"
qps = 20
burst = 40
publish_interval_ms = 500
resync_interval_s = 30
)",
                            "t.toml");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_TRUE(config->kubernetes.enabled);
  EXPECT_EQ(config->kubernetes.kubeconfig, "/etc/topod/kubeconfig");
  EXPECT_EQ(config->kubernetes.node_name, "worker-1");
  EXPECT_EQ(config->kubernetes.qps, 20);
  EXPECT_EQ(config->kubernetes.publish_interval_ms, 500);
  auto bad = parseConfig("[kubernetes]\npublish_interval_ms = 1\nunknown = 2\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("publish_interval_ms"), std::string::npos);
  EXPECT_NE(bad.error().message().find("unknown"), std::string::npos);
}

TEST(KubernetesConfigTest, NodeNameFallsBackToTheEnvironment) {
  EXPECT_EQ(resolveNodeName("given"), "given");
  ::setenv("NODE_NAME", "from-env", 1);
  EXPECT_EQ(resolveNodeName(""), "from-env");
  ::unsetenv("NODE_NAME");
  EXPECT_FALSE(resolveNodeName("").empty()) << "the host name";
}

TEST(NrtPublishingTest, ExecPluginKubeconfigIsOneClearStartupError) {
  char dir[] = "/tmp/topod-nrt-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/kubeconfig";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: "Q0E="}}]
users: [{name: u, user: {exec: {command: aws}}}]
)",
             f);
  std::fclose(f);
  auto t = topology::loadTopology("synthetic:pack:1 numa:2 core:2 pu:1");
  ASSERT_TRUE(t.has_value());
  std::filesystem::create_directories(std::string(dir) + "/state");
  AgentOptions agent_options{.policy = Config::defaultPolicyOptions(), .state_dir = std::string(dir) + "/state"};
  auto agent = Agent::create(*t, agent_options);
  ASSERT_TRUE(agent) << agent.error().toString();
  KubernetesConfig config{.enabled = true, .kubeconfig = path, .node_name = "n1"};
  auto publishing = NrtPublishing::start(config, *t, agent_options.policy, **agent, nullptr);
  ASSERT_FALSE(publishing);
  EXPECT_NE(publishing.error().message().find("exec credential plugin"), std::string::npos)
      << publishing.error().message();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace topod::agent
