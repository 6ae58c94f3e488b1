// The pod-level CPU quota (agent/agent.h): a pod holding exclusive CPUs has no CFS quota on its
// pod cgroup, as the kubelet's DisableCPUQuotaWithExclusiveCPUs gives it; the quota comes back
// when the pod no longer holds any. Over fake cgroups, v1 and v2; where systemd owns the pod slice,
// through the fake systemd too (the value must survive a daemon-reload).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "config/config.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/fakes/fake_policy.h"
#include "tests/fakes/fake_unit_properties.h"

namespace topod::agent {
namespace {

using cgroups::CgroupVersion;
using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

class PodQuotaTest : public ::testing::TestWithParam<CgroupVersion> {
 protected:
  void SetUp() override {
    AgentOptions options{
        .policy = defaultConfig().policy, .state_dir = dir_.path(), .cgroups = &cgroups_, .units = &units_};
    auto agent = Agent::create(topology_, options, std::make_unique<testing::FakeExclusivePolicy>(topology_));
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    agent_ = std::move(*agent);
    ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  }

  bool v2() const { return GetParam() == CgroupVersion::V2; }

  // A pod cgroup as the kubelet creates it: `quota_us` (-1: none) per `period_us`.
  void addPodCgroup(const nri::Pod& pod, int64_t quota_us, uint64_t period_us = 100000) {
    cgroups_.addCgroup(pod.cgroup_parent);
    if (v2()) {
      cgroups_.set(pod.cgroup_parent, "cpu.max",
                   (quota_us < 0 ? "max" : std::to_string(quota_us)) + " " + std::to_string(period_us));
    } else {
      cgroups_.set(pod.cgroup_parent, "cpu.cfs_quota_us", std::to_string(quota_us));
      cgroups_.set(pod.cgroup_parent, "cpu.cfs_period_us", std::to_string(period_us));
    }
  }

  // The pod cgroup's quota as the kernel would show it: "-1" when there is none.
  std::string podQuota(const nri::Pod& pod) const {
    auto text = cgroups_.readFile("cpu", pod.cgroup_parent, v2() ? "cpu.max" : "cpu.cfs_quota_us");
    if (!text.has_value()) return "<" + text.error().message() + ">";
    std::string value = text->substr(0, text->find_first_of(" \n"));
    return value == "max" ? "-1" : value;
  }

  std::size_t podQuotaWrites(const nri::Pod& pod) const {
    std::size_t n = 0;
    for (const auto& write : cgroups_.writes()) {
      if (write.cgroup == pod.cgroup_parent &&
          (write.file == "cpu.max" || write.file == "cpu.cfs_quota_us" || write.file == "cpu.cfs_period_us")) {
        ++n;
      }
    }
    return n;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeCgroupFs cgroups_{GetParam()};
  testing::FakeUnitProperties units_;
  std::unique_ptr<Agent> agent_;
};

TEST_P(PodQuotaTest, ExclusivePodLosesItsQuotaAndGetsItBackWhenResizedToShared) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  addPodCgroup(pod, 200000);
  auto app = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(pod), "-1") << "no pod-level quota while the pod has exclusive CPUs";

  // Resized to 1.5 CPUs: shared; the kubelet's pod quota for the new limit is 150000.
  auto resized = guaranteed(pod, "app", 1500);
  auto updates = agent_->onUpdateContainer(pod, app, resized.resources);
  ASSERT_TRUE(updates.has_value()) << updates.error().toString();
  ASSERT_TRUE(agent_->state().containers().at({pod.uid, "app"}).exclusive_cpus.empty());
  EXPECT_EQ(podQuota(pod), "150000") << "the sum of the new limits, as ResourceConfigForPod computes";
}

TEST_P(PodQuotaTest, QuotaBeforeTopodIsRestoredWhenTheExclusiveContainerGoes) {
  auto pod = makePod("g2", QosClass::Guaranteed);
  // 2 + 0.5 CPUs plus overhead the kubelet counted in: restored as it was, not recomputed (the
  // kubelet's pod spec still lists the removed container).
  addPodCgroup(pod, 260000);
  auto app = guaranteed(pod, "app", 2000);
  auto sidecar = guaranteed(pod, "sidecar", 500);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  ASSERT_TRUE(agent_->onCreateContainer(pod, sidecar).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  ASSERT_TRUE(agent_->onStopContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(pod), "-1") << "a stopped container keeps its CPUs, so the pod stays exclusive";
  ASSERT_TRUE(agent_->onRemoveContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(pod), "260000") << "the quota the pod had before topod removed it";
}

TEST_P(PodQuotaTest, ANewAttemptWithASharedLimitIsAResizeByRestart) {
  auto pod = makePod("g3", QosClass::Guaranteed);
  addPodCgroup(pod, 100000);
  auto first = guaranteed(pod, "app", 1000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, first).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  ASSERT_TRUE(agent_->onStopContainer(pod, first).has_value());
  auto second = guaranteed(pod, "app", 500);
  second.id = first.id + "-attempt1";
  auto reply = agent_->onCreateContainer(pod, second);
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  ASSERT_TRUE(agent_->state().containers().at({pod.uid, "app"}).exclusive_cpus.empty());
  EXPECT_EQ(podQuota(pod), "50000") << "the kubelet's sum for the new limit, not the old quota";
}

TEST_P(PodQuotaTest, SharedOnlyPodsAreNotTouched) {
  auto guaranteed_pod = makePod("g4", QosClass::Guaranteed);
  addPodCgroup(guaranteed_pod, 150000);
  auto burstable_pod = makePod("b4", QosClass::Burstable);
  addPodCgroup(burstable_pod, 50000);
  ASSERT_TRUE(agent_->onCreateContainer(guaranteed_pod, guaranteed(guaranteed_pod, "app", 1500)).has_value());
  ASSERT_TRUE(agent_->onCreateContainer(burstable_pod, makeContainer(burstable_pod, "app", 250, 500)).has_value());
  EXPECT_EQ(podQuota(guaranteed_pod), "150000");
  EXPECT_EQ(podQuota(burstable_pod), "50000");
  EXPECT_EQ(podQuotaWrites(guaranteed_pod), 0U);
  EXPECT_EQ(podQuotaWrites(burstable_pod), 0U);
}

TEST_P(PodQuotaTest, AQuotaTheKubeletSetsAgainDuringAResizeIsRemovedAgain) {
  auto pod = makePod("g5", QosClass::Guaranteed);
  addPodCgroup(pod, 100000);
  auto app = guaranteed(pod, "app", 1000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  // A growing resize: the kubelet writes the pod's new quota before it updates the container.
  addPodCgroup(pod, 200000);
  auto resized = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onUpdateContainer(pod, app, resized.resources).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  // Back to shared at 1.5 CPUs: the kubelet's sum for the new limits.
  auto shared = guaranteed(pod, "app", 1500);
  ASSERT_TRUE(agent_->onUpdateContainer(pod, resized, shared.resources).has_value());
  EXPECT_EQ(podQuota(pod), "150000");
}

TEST_P(PodQuotaTest, SynchronizeRemovesTheQuotaOfExclusivePods) {
  auto pod = makePod("g6", QosClass::Guaranteed);
  addPodCgroup(pod, 200000);
  auto app = guaranteed(pod, "app", 2000);
  app.state = nri::ContainerState::Running;
  ASSERT_TRUE(agent_->onSynchronize({pod}, {app}).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  // A pod removed while topod was away is forgotten; nothing is written for it.
  std::size_t writes = podQuotaWrites(pod);
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  EXPECT_EQ(podQuotaWrites(pod), writes);
}

TEST_P(PodQuotaTest, SystemdPodSliceIsFoundThroughItsParents) {
  auto pod = makePod("g7", QosClass::Guaranteed);
  pod.cgroup_parent = "kubepods-podg7.slice";
  nri::Pod at_path = pod;
  at_path.cgroup_parent = "/kubepods.slice/kubepods-podg7.slice";
  addPodCgroup(at_path, 100000);
  auto app = guaranteed(pod, "app", 1000);
  app.cgroups_path = "kubepods-podg7.slice:cri-containerd:" + app.id;
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "-1");
}

TEST_P(PodQuotaTest, CgroupErrorsAreLoggedNotFatal) {
  auto pod = makePod("g8", QosClass::Guaranteed);  // no pod cgroup at all
  auto app = guaranteed(pod, "app", 2000);
  auto reply = agent_->onCreateContainer(pod, app);
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(reply->adjustment.resources.cpu_quota, -1) << "the container is still admitted, without quota";
  ASSERT_TRUE(agent_->onRemoveContainer(pod, app).has_value());

  auto odd = makePod("g9", QosClass::Guaranteed);
  cgroups_.addCgroup(odd.cgroup_parent);
  cgroups_.set(odd.cgroup_parent, v2() ? "cpu.max" : "cpu.cfs_quota_us", "garbage");
  cgroups_.set(odd.cgroup_parent, "cpu.cfs_period_us", "100000");
  ASSERT_TRUE(agent_->onCreateContainer(odd, guaranteed(odd, "app", 1000)).has_value());
  EXPECT_EQ(podQuotaWrites(odd), 0U) << "an unreadable quota is left alone";
}

TEST_P(PodQuotaTest, NoQuotaBeforeMeansNothingToRestoreButTheKubeletsSum) {
  auto pod = makePod("g10", QosClass::Guaranteed);
  addPodCgroup(pod, -1);  // a kubelet with the feature on already left it without quota
  auto app = guaranteed(pod, "app", 1000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuotaWrites(pod), 0U);
  auto shared = guaranteed(pod, "app", 500);
  ASSERT_TRUE(agent_->onUpdateContainer(pod, app, shared.resources).has_value());
  EXPECT_EQ(podQuota(pod), "50000") << "what the kubelet sets for the shared pod";
}

// The kubelet's systemd driver: a Guaranteed pod's cgroup is a slice systemd made, and
// `quota_us` per 100 ms is what the unit holds (CPUQuotaPerSecUSec) as well as the file.
nri::Pod slicePod(const std::string& uid) {
  auto pod = makePod(uid, QosClass::Guaranteed);
  pod.cgroup_parent = "kubepods-pod" + uid + ".slice";
  return pod;
}
std::string sliceOf(const nri::Pod& pod) {
  return "/kubepods.slice/" + pod.cgroup_parent;
}
systemd::UnitCpuQuota perSecond(uint64_t per_sec_us) {
  return systemd::UnitCpuQuota{.per_sec_us = per_sec_us, .period_us = std::nullopt};
}

TEST_P(PodQuotaTest, SystemdSliceLosesItsQuotaThroughTheUnitAndGetsItBack) {
  auto pod = slicePod("s1");
  nri::Pod at_path = pod;
  at_path.cgroup_parent = sliceOf(pod);
  addPodCgroup(at_path, 100000);
  units_.addUnit(pod.cgroup_parent, perSecond(1000000));
  auto app = guaranteed(pod, "app", 1000);
  app.cgroups_path = pod.cgroup_parent + ":cri-containerd:" + app.id;
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "-1");
  EXPECT_EQ(units_.unit(pod.cgroup_parent), systemd::UnitCpuQuota{}) << "CPUQuotaPerSecUSec=infinity";
  ASSERT_TRUE(units_.reload(pod.cgroup_parent, cgroups_, at_path.cgroup_parent).has_value());
  EXPECT_EQ(podQuota(at_path), "-1") << "systemd's daemon-reload writes topod's value back";

  // Resized to 500m: shared; the kubelet's quota for it, on the unit and in the file.
  auto shared = guaranteed(pod, "app", 500);
  ASSERT_TRUE(agent_->onUpdateContainer(pod, app, shared.resources).has_value());
  EXPECT_EQ(podQuota(at_path), "50000");
  EXPECT_EQ(units_.unit(pod.cgroup_parent), perSecond(500000));
  ASSERT_TRUE(units_.reload(pod.cgroup_parent, cgroups_, at_path.cgroup_parent).has_value());
  EXPECT_EQ(podQuota(at_path), "50000") << "and a daemon-reload keeps it";
}

TEST_P(PodQuotaTest, SystemdRoundsTheRestoredQuotaTheFileKeepsItExact) {
  auto pod = slicePod("s2");
  nri::Pod at_path = pod;
  at_path.cgroup_parent = sliceOf(pod);
  // 1 CPU + 0.833 at a 50 ms period, as a kubelet with a custom CFS period sets it.
  addPodCgroup(at_path, 91650, 50000);
  units_.addUnit(pod.cgroup_parent, systemd::UnitCpuQuota{.per_sec_us = 1840000, .period_us = 50000});
  auto app = guaranteed(pod, "app", 1000);
  auto sidecar = guaranteed(pod, "sidecar", 833);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  ASSERT_TRUE(agent_->onCreateContainer(pod, sidecar).has_value());
  EXPECT_EQ(podQuota(at_path), "-1");
  ASSERT_TRUE(agent_->onRemoveContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "91650") << "the file gets the exact value last";
  auto sets = units_.sets();
  ASSERT_FALSE(sets.empty());
  EXPECT_EQ(sets.back().quota, (systemd::UnitCpuQuota{.per_sec_us = 1840000, .period_us = 50000}))
      << "91650 us per 50 ms is 1833000 us per second, which runc rounds up to 10 ms steps; the period is "
         "not systemd's default, so it is set too";
}

TEST_P(PodQuotaTest, ABusFailureFallsBackToTheFileAndTheUnitIsRetried) {
  auto pod = slicePod("s3");
  nri::Pod at_path = pod;
  at_path.cgroup_parent = sliceOf(pod);
  addPodCgroup(at_path, 250000);
  units_.addUnit(pod.cgroup_parent, perSecond(2500000));
  units_.fail(Error::unavailable("bus gone").withReason(systemd::kNoBusReason));
  auto app = guaranteed(pod, "app", 2000);
  auto sidecar = guaranteed(pod, "sidecar", 500);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "-1") << "the file is written whatever systemd says";
  EXPECT_EQ(units_.unit(pod.cgroup_parent), perSecond(2500000));

  // The bus is back: the pod's next event clears the unit too.
  units_.fail(std::nullopt);
  ASSERT_TRUE(agent_->onCreateContainer(pod, sidecar).has_value());
  EXPECT_EQ(units_.unit(pod.cgroup_parent), systemd::UnitCpuQuota{});
  ASSERT_TRUE(units_.reload(pod.cgroup_parent, cgroups_, at_path.cgroup_parent).has_value());
  EXPECT_EQ(podQuota(at_path), "-1");

  // Restoring while the bus is gone again: the file alone.
  units_.fail(Error::unavailable("bus gone").withReason(systemd::kNoBusReason));
  ASSERT_TRUE(agent_->onRemoveContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "250000");
  EXPECT_EQ(units_.unit(pod.cgroup_parent), systemd::UnitCpuQuota{});
}

TEST_P(PodQuotaTest, AQuotaOnlySystemdStillHoldsIsRemovedAndRestored) {
  // topod cleared the file before a restart, without a bus; the unit kept the kubelet's quota
  // (2.5 CPUs + overhead), which the next daemon-reload would write back.
  auto pod = slicePod("s4");
  nri::Pod at_path = pod;
  at_path.cgroup_parent = sliceOf(pod);
  addPodCgroup(at_path, -1);
  units_.addUnit(pod.cgroup_parent, perSecond(2600000));
  auto app = guaranteed(pod, "app", 2000);
  app.state = nri::ContainerState::Running;
  auto sidecar = guaranteed(pod, "sidecar", 500);
  sidecar.state = nri::ContainerState::Running;
  ASSERT_TRUE(agent_->onSynchronize({pod}, {app, sidecar}).has_value());
  EXPECT_EQ(units_.unit(pod.cgroup_parent), systemd::UnitCpuQuota{});
  EXPECT_EQ(podQuotaWrites(at_path), 0U) << "the file already says none";
  ASSERT_TRUE(agent_->onRemoveContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "260000") << "the unit's quota, overhead included, not the sum of what NRI shows";
  EXPECT_EQ(units_.unit(pod.cgroup_parent), perSecond(2600000));
}

TEST_P(PodQuotaTest, CgroupfsDriverPodsNeverTouchSystemd) {
  auto pod = makePod("c1", QosClass::Guaranteed);
  addPodCgroup(pod, 100000);
  auto app = guaranteed(pod, "app", 1000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(pod), "-1");
  auto shared = guaranteed(pod, "app", 500);
  ASSERT_TRUE(agent_->onUpdateContainer(pod, app, shared.resources).has_value());
  EXPECT_EQ(podQuota(pod), "50000");
  EXPECT_EQ(units_.calls(), 0U);
}

TEST_P(PodQuotaTest, WithoutABusTheSliceGetsTheFileAlone) {
  testing::TempDir dir;
  AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir.path(), .cgroups = &cgroups_};
  auto agent = Agent::create(topology_, options, std::make_unique<testing::FakeExclusivePolicy>(topology_));
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  ASSERT_TRUE((*agent)->onSynchronize({}, {}).has_value());
  auto pod = slicePod("s5");
  nri::Pod at_path = pod;
  at_path.cgroup_parent = sliceOf(pod);
  addPodCgroup(at_path, 100000);
  units_.addUnit(pod.cgroup_parent, perSecond(1000000));
  auto app = guaranteed(pod, "app", 1000);
  ASSERT_TRUE((*agent)->onCreateContainer(pod, app).has_value());
  EXPECT_EQ(podQuota(at_path), "-1");
  auto shared = guaranteed(pod, "app", 500);
  ASSERT_TRUE((*agent)->onUpdateContainer(pod, app, shared.resources).has_value());
  EXPECT_EQ(podQuota(at_path), "50000");
  EXPECT_EQ(units_.calls(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Versions, PodQuotaTest, ::testing::Values(CgroupVersion::V1, CgroupVersion::V2),
                         [](const ::testing::TestParamInfo<CgroupVersion>& row) {
                           return row.param == CgroupVersion::V1 ? std::string("V1") : std::string("V2");
                         });

}  // namespace
}  // namespace topod::agent
