// What the agent records in its metrics: admissions and pinning requests on the Agent's event
// path (admitted and refused), drift repairs, the pool gauges read at scrape time, journal
// timings, the NRI hook histograms of MeteredHandler, and the health the endpoint reports.
#include "agent/agent_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "agent/agent.h"
#include "config/config.h"
#include "metrics/registry.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using testing::FakeClock;
using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;
using testing::TempDir;

// The value of one sample line ("name{labels} value") in the rendered text; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  std::size_t at = text.rfind("\n" + prefix);
  if (at == std::string::npos) return text.starts_with(prefix) ? std::stod(text.substr(prefix.size())) : -1;
  return std::stod(text.substr(at + 1 + prefix.size()));
}

class AgentMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentOptions options{.policy = defaultConfig().policy,
                         .state_dir = dir_.path(),
                         .checkpoint = {.clock = &clock_, .observe_journal = journalObserver(registry_)},
                         .metrics = &metrics_};
    auto agent = Agent::create(topology_, options, std::make_unique<testing::FakeExclusivePolicy>(topology_));
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    agent_ = std::move(*agent);
    registerAgentReadings(registry_, *agent_);
    ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  }

  double value(const std::string& series) const { return sample(registry_.render(), series); }

  FakeClock clock_;
  metrics::Registry registry_;
  AgentMetrics metrics_{registry_, clock_};
  TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentMetricsTest, AGuaranteedCreateIsAPinningRequestAndAnAdmission) {
  EXPECT_EQ(value("topod_cpu_manager_pinning_requests_total"), 0);
  EXPECT_EQ(value("topod_cpu_manager_exclusive_cpu_allocation_count"), 0);
  EXPECT_EQ(value("topod_cpu_manager_shared_pool_size_millicores"), 16000);
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  EXPECT_EQ(value("topod_cpu_manager_pinning_requests_total"), 1);
  EXPECT_EQ(value("topod_cpu_manager_pinning_errors_total"), 0);
  EXPECT_EQ(value("topod_topology_manager_admission_requests_total"), 1);
  EXPECT_EQ(value("topod_topology_manager_admission_errors_total"), 0);
  EXPECT_EQ(value("topod_topology_manager_admission_duration_ms_count"), 1);
  // The memory manager is off in the default configuration: no memory pinning.
  EXPECT_EQ(value("topod_memory_manager_pinning_requests_total"), 0);
  // Read from the Agent at scrape time.
  EXPECT_EQ(value("topod_cpu_manager_exclusive_cpu_allocation_count"), 2);
  EXPECT_EQ(value("topod_cpu_manager_shared_pool_size_millicores"), 14000);
  EXPECT_EQ(value("topod_containers"), 1);
  // The admission was journaled, and timed.
  EXPECT_GE(value("topod_journal_append_duration_seconds_count"), 1);
}

TEST_F(AgentMetricsTest, ASharedCreateIsAnAdmissionButNoPinningRequest) {
  auto pod = makePod("b1", QosClass::Burstable);
  ASSERT_TRUE(agent_->onCreateContainer(pod, makeContainer(pod, "app", 500, 1000)).has_value());
  EXPECT_EQ(value("topod_topology_manager_admission_requests_total"), 1);
  EXPECT_EQ(value("topod_cpu_manager_pinning_requests_total"), 0);
  // A Guaranteed pod with a fractional CPU is shared too (the static policy's rule).
  auto fractional = makePod("g2", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(fractional, guaranteed(fractional, "app", 1500)).has_value());
  EXPECT_EQ(value("topod_topology_manager_admission_requests_total"), 2);
  EXPECT_EQ(value("topod_cpu_manager_pinning_requests_total"), 0);
}

TEST_F(AgentMetricsTest, ARefusalIsAnAdmissionErrorAndAPinningError) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_FALSE(agent_->onCreateContainer(pod, guaranteed(pod, "huge", 64000)).has_value());
  EXPECT_EQ(value("topod_topology_manager_admission_requests_total"), 1);
  EXPECT_EQ(value("topod_topology_manager_admission_errors_total"), 1);
  EXPECT_EQ(value("topod_cpu_manager_pinning_requests_total"), 1);
  EXPECT_EQ(value("topod_cpu_manager_pinning_errors_total"), 1);
  EXPECT_EQ(value("topod_topology_manager_admission_duration_ms_count"), 1);
  EXPECT_EQ(value("topod_cpu_manager_exclusive_cpu_allocation_count"), 0);
}

TEST_F(AgentMetricsTest, SynchronizeCountsTheCpusetsItRepairs) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  nri::Container drifted = guaranteed(pod, "app", 2000);
  drifted.state = nri::ContainerState::Running;
  drifted.resources.cpuset_cpus = CpuSet{0, 1, 2, 3};  // not what the policy gives it
  ASSERT_TRUE(agent_->onSynchronize({pod}, {drifted}).has_value());
  EXPECT_EQ(value("topod_drift_repairs_total"), 1);
}

TEST_F(AgentMetricsTest, HealthIsFineUntilTheCheckpointCloses) {
  EXPECT_EQ(agent_->healthProblem(), "");
  ASSERT_TRUE(agent_->close().has_value());
  EXPECT_NE(agent_->healthProblem().find("is closed"), std::string::npos) << agent_->healthProblem();
}

// A handler whose every event takes `took` of the fake clock, and fails when told to.
class SlowHandler final : public nri::EventHandler {
 public:
  SlowHandler(FakeClock& clock, std::chrono::nanoseconds took) : clock_(clock), took_(took) {}
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    clock_.advance(took_);
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override {
    clock_.advance(took_);
    if (fail) return Error::resourceExhausted("no room");
    return nri::CreateReply{};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    return std::vector<nri::Update>{};
  }
  bool fail = false;

 private:
  FakeClock& clock_;
  std::chrono::nanoseconds took_;
};

TEST(MeteredHandlerTest, TimesEveryEventAndCountsErrors) {
  FakeClock clock;
  metrics::Registry registry;
  SlowHandler inner(clock, std::chrono::milliseconds(3));
  MeteredHandler handler(inner, registry, clock);
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(handler.onCreateContainer(pod, guaranteed(pod, "app", 1000)).has_value());
  inner.fail = true;
  ASSERT_FALSE(handler.onCreateContainer(pod, guaranteed(pod, "app", 1000)).has_value());
  ASSERT_TRUE(handler.onRunPodSandbox(pod).has_value());

  const std::string text = registry.render();
  const std::string create = "topod_nri_request_duration_seconds_bucket{event=\"create_container\",le=";
  EXPECT_EQ(sample(text, create + "\"0.0025\"}"), 0);
  EXPECT_EQ(sample(text, create + "\"0.005\"}"), 2);
  EXPECT_EQ(sample(text, "topod_nri_request_duration_seconds_count{event=\"create_container\"}"), 2);
  EXPECT_DOUBLE_EQ(sample(text, "topod_nri_request_duration_seconds_sum{event=\"create_container\"}"), 0.006);
  EXPECT_EQ(sample(text, "topod_nri_request_errors_total{event=\"create_container\"}"), 1);
  EXPECT_EQ(sample(text, "topod_nri_request_duration_seconds_count{event=\"run_pod_sandbox\"}"), 1);
  EXPECT_EQ(sample(text, "topod_nri_request_duration_seconds_count{event=\"synchronize\"}"), 0);
}

TEST(MeteredHandlerTest, TheNriSeriesExistAtZeroBeforeTheFirstEvent) {
  FakeClock clock;
  metrics::Registry registry;
  metrics::Counter& reconnects = registerNriMetrics(registry);
  std::string text = registry.render();
  EXPECT_EQ(sample(text, "topod_nri_request_duration_seconds_count{event=\"create_container\"}"), 0);
  EXPECT_EQ(sample(text, "topod_nri_request_errors_total{event=\"remove_pod_sandbox\"}"), 0);
  EXPECT_EQ(sample(text, "topod_nri_reconnects_total"), 0);
  reconnects.inc();
  // The handler made later records into the same series.
  SlowHandler inner(clock, std::chrono::milliseconds(1));
  MeteredHandler handler(inner, registry, clock);
  ASSERT_TRUE(handler.onSynchronize({}, {}).has_value());
  text = registry.render();
  EXPECT_EQ(sample(text, "topod_nri_request_duration_seconds_count{event=\"synchronize\"}"), 1);
  EXPECT_EQ(sample(text, "topod_nri_reconnects_total"), 1);
}

}  // namespace
}  // namespace topod::agent
