#include "nri/convert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace topod::nri {
namespace {

TEST(Convert, ResourcesRoundTrip) {
  LinuxResources resources;
  resources.cpu_shares = 2048;
  resources.cpu_quota = 200000;
  resources.cpu_period = 100000;
  resources.cpuset_cpus = CpuSet{0, 1, 2, 3, 8};
  resources.cpuset_mems = NodeSet{0};
  resources.memory_limit = int64_t{1} << 30;
  resources.hugepage_limits = {{"2MB", 4 << 20}};
  pb::LinuxResources proto;
  resourcesToProto(resources, &proto);
  EXPECT_EQ(proto.cpu().cpus(), "0-3,8");
  auto back = resourcesFromProto(proto);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, resources);
}

TEST(Convert, EmptyResourcesLeaveProtoEmpty) {
  pb::LinuxResources proto;
  resourcesToProto(LinuxResources{}, &proto);
  EXPECT_EQ(proto.ByteSizeLong(), 0u);
  auto back = resourcesFromProto(proto);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->empty());
}

TEST(Convert, BadCpusetNamesContainer) {
  pb::Container proto;
  proto.set_id("c1");
  proto.set_name("app");
  proto.mutable_linux()->mutable_resources()->mutable_cpu()->set_cpus("3-1");
  auto container = containerFromProto(proto);
  ASSERT_FALSE(container.has_value());
  EXPECT_NE(container.error().message().find("container c1"), std::string::npos) << container.error().toString();
}

TEST(Convert, ContainerDevicesAsTheRuntimeSendsThem) {
  pb::Container proto;
  proto.set_id("c1");
  pb::LinuxDevice* gpu = proto.mutable_linux()->add_devices();
  gpu->set_path("/dev/nvidia1");
  gpu->set_type("c");
  gpu->set_major(195);
  gpu->set_minor(1);
  gpu->mutable_file_mode()->set_value(0666);  // carried by the runtime, not needed by topod
  gpu->mutable_uid()->set_value(0);
  pb::LinuxDevice* disk = proto.mutable_linux()->add_devices();
  disk->set_path("/dev/xvdb");
  disk->set_type("b");
  disk->set_major(202);
  disk->set_minor(16);
  auto container = containerFromProto(proto);
  ASSERT_TRUE(container.has_value()) << container.error().toString();
  EXPECT_EQ(container->devices, (std::vector<LinuxDevice>{{"/dev/nvidia1", "c", 195, 1}, {"/dev/xvdb", "b", 202, 16}}));
}

TEST(Convert, PodAndContainerRoundTrip) {
  Pod pod;
  pod.id = "sb1";
  pod.uid = "uid-1";
  pod.namespace_name = "default";
  pod.name = "web";
  pod.labels = {{"app", "web"}};
  pod.annotations = {{"a", "b"}};
  pod.cgroup_parent = "kubepods-burstable-poduid_1.slice";
  pod.pod_resources = LinuxResources{.cpu_shares = 512};
  pod.pid = 42;
  pb::PodSandbox pod_pb;
  podToProto(pod, &pod_pb);
  auto pod_back = podFromProto(pod_pb);
  ASSERT_TRUE(pod_back.has_value());
  EXPECT_EQ(*pod_back, pod);

  Container container;
  container.id = "c1";
  container.pod_id = "sb1";
  container.name = "app";
  container.state = ContainerState::Running;
  container.cgroups_path = "kubepods-burstable-poduid_1.slice:cri-containerd:c1";
  container.pid = 77;
  container.oom_score_adj = 500;
  container.resources.cpu_shares = 1024;
  container.devices = {{"/dev/nvidia0", "c", 195, 0}, {"/dev/dri/renderD128", "c", 226, 128}};
  pb::Container container_pb;
  containerToProto(container, &container_pb);
  auto container_back = containerFromProto(container_pb);
  ASSERT_TRUE(container_back.has_value());
  EXPECT_EQ(*container_back, container);
}

TEST(Convert, UpdateAndAdjustment) {
  Update update{"c9", LinuxResources{.cpuset_cpus = CpuSet{4, 5}}, true};
  pb::ContainerUpdate update_pb;
  updateToProto(update, &update_pb);
  EXPECT_EQ(update_pb.linux().resources().cpu().cpus(), "4-5");
  auto update_back = updateFromProto(update_pb);
  ASSERT_TRUE(update_back.has_value());
  EXPECT_EQ(*update_back, update);

  Adjustment adjustment{LinuxResources{.memory_limit = 4096}};
  pb::ContainerAdjustment adjustment_pb;
  adjustmentToProto(adjustment, &adjustment_pb);
  auto adjustment_back = adjustmentFromProto(adjustment_pb);
  ASSERT_TRUE(adjustment_back.has_value());
  EXPECT_EQ(*adjustment_back, adjustment);

  pb::ContainerAdjustment empty_pb;
  adjustmentToProto(Adjustment{}, &empty_pb);
  EXPECT_FALSE(empty_pb.has_linux());
}

}  // namespace
}  // namespace topod::nri
