#include "nri/convert.h"

#include <string>

namespace topod::nri {
namespace {

StringMap toMap(const google::protobuf::Map<std::string, std::string>& in) {
  return StringMap(in.begin(), in.end());
}

void fromMap(const StringMap& in, google::protobuf::Map<std::string, std::string>* out) {
  for (const auto& [key, value] : in) (*out)[key] = value;
}

ContainerState stateFromProto(pb::ContainerState state) {
  switch (state) {
    case pb::CONTAINER_CREATED: return ContainerState::Created;
    case pb::CONTAINER_PAUSED: return ContainerState::Paused;
    case pb::CONTAINER_RUNNING: return ContainerState::Running;
    case pb::CONTAINER_STOPPED: return ContainerState::Stopped;
    case pb::CONTAINER_UNKNOWN: return ContainerState::Unknown;
    case pb::ContainerState_INT_MIN_SENTINEL_DO_NOT_USE_:
    case pb::ContainerState_INT_MAX_SENTINEL_DO_NOT_USE_: return ContainerState::Unknown;
  }
  // Values from a newer runtime that we do not know.
  return ContainerState::Unknown;
}

pb::ContainerState stateToProto(ContainerState state) {
  switch (state) {
    case ContainerState::Created: return pb::CONTAINER_CREATED;
    case ContainerState::Paused: return pb::CONTAINER_PAUSED;
    case ContainerState::Running: return pb::CONTAINER_RUNNING;
    case ContainerState::Stopped: return pb::CONTAINER_STOPPED;
    case ContainerState::Unknown: return pb::CONTAINER_UNKNOWN;
  }
  return pb::CONTAINER_UNKNOWN;
}

}  // namespace

Result<LinuxResources> resourcesFromProto(const pb::LinuxResources& in) {
  LinuxResources out;
  if (in.has_cpu()) {
    const pb::LinuxCPU& cpu = in.cpu();
    if (cpu.has_shares()) out.cpu_shares = cpu.shares().value();
    if (cpu.has_quota()) out.cpu_quota = cpu.quota().value();
    if (cpu.has_period()) out.cpu_period = cpu.period().value();
    if (!cpu.cpus().empty()) {
      auto cpus = CpuSet::parse(cpu.cpus());
      if (!cpus.has_value()) return cpus.error().withContext("linux resources cpu.cpus");
      out.cpuset_cpus = std::move(*cpus);
    }
    if (!cpu.mems().empty()) {
      auto mems = NodeSet::parse(cpu.mems());
      if (!mems.has_value()) return mems.error().withContext("linux resources cpu.mems");
      out.cpuset_mems = std::move(*mems);
    }
  }
  if (in.has_memory() && in.memory().has_limit()) out.memory_limit = in.memory().limit().value();
  for (const pb::HugepageLimit& limit : in.hugepage_limits()) {
    out.hugepage_limits.push_back({limit.page_size(), limit.limit()});
  }
  return out;
}

void resourcesToProto(const LinuxResources& in, pb::LinuxResources* out) {
  if (in.cpu_shares || in.cpu_quota || in.cpu_period || in.cpuset_cpus || in.cpuset_mems) {
    pb::LinuxCPU* cpu = out->mutable_cpu();
    if (in.cpu_shares) cpu->mutable_shares()->set_value(*in.cpu_shares);
    if (in.cpu_quota) cpu->mutable_quota()->set_value(*in.cpu_quota);
    if (in.cpu_period) cpu->mutable_period()->set_value(*in.cpu_period);
    if (in.cpuset_cpus) cpu->set_cpus(in.cpuset_cpus->toString());
    if (in.cpuset_mems) cpu->set_mems(in.cpuset_mems->toString());
  }
  if (in.memory_limit) out->mutable_memory()->mutable_limit()->set_value(*in.memory_limit);
  for (const HugepageLimit& limit : in.hugepage_limits) {
    pb::HugepageLimit* pb_limit = out->add_hugepage_limits();
    pb_limit->set_page_size(limit.page_size);
    pb_limit->set_limit(limit.limit);
  }
}

Result<Pod> podFromProto(const pb::PodSandbox& in) {
  Pod out;
  out.id = in.id();
  out.uid = in.uid();
  out.namespace_name = in.namespace_();
  out.name = in.name();
  out.labels = toMap(in.labels());
  out.annotations = toMap(in.annotations());
  out.runtime_handler = in.runtime_handler();
  out.pid = in.pid();
  if (in.has_linux()) {
    const pb::LinuxPodSandbox& linux = in.linux();
    out.cgroup_parent = linux.cgroup_parent();
    out.cgroups_path = linux.cgroups_path();
    if (linux.has_pod_resources()) {
      auto resources = resourcesFromProto(linux.pod_resources());
      if (!resources.has_value()) {
        return resources.error().withContext("pod " + in.namespace_() + "/" + in.name() + " pod_resources");
      }
      out.pod_resources = std::move(*resources);
    }
    if (linux.has_pod_overhead()) {
      auto overhead = resourcesFromProto(linux.pod_overhead());
      if (!overhead.has_value()) {
        return overhead.error().withContext("pod " + in.namespace_() + "/" + in.name() + " pod_overhead");
      }
      out.pod_overhead = std::move(*overhead);
    }
  }
  return out;
}

Result<Container> containerFromProto(const pb::Container& in) {
  Container out;
  out.id = in.id();
  out.pod_id = in.pod_sandbox_id();
  out.name = in.name();
  out.state = stateFromProto(in.state());
  out.labels = toMap(in.labels());
  out.annotations = toMap(in.annotations());
  out.pid = in.pid();
  if (in.has_linux()) {
    const pb::LinuxContainer& linux = in.linux();
    out.cgroups_path = linux.cgroups_path();
    if (linux.has_oom_score_adj()) out.oom_score_adj = linux.oom_score_adj().value();
    out.devices.reserve(static_cast<std::size_t>(linux.devices_size()));
    for (const pb::LinuxDevice& device : linux.devices()) {
      out.devices.push_back(
          LinuxDevice{.path = device.path(), .type = device.type(), .major = device.major(), .minor = device.minor()});
    }
    if (linux.has_resources()) {
      auto resources = resourcesFromProto(linux.resources());
      if (!resources.has_value()) {
        return resources.error().withContext("container " + in.id() + " (" + in.name() + ")");
      }
      out.resources = std::move(*resources);
    }
  }
  return out;
}

Result<Update> updateFromProto(const pb::ContainerUpdate& in) {
  Update out;
  out.container_id = in.container_id();
  out.ignore_failure = in.ignore_failure();
  if (in.has_linux() && in.linux().has_resources()) {
    auto resources = resourcesFromProto(in.linux().resources());
    if (!resources.has_value()) {
      return resources.error().withContext("update of container " + in.container_id());
    }
    out.resources = std::move(*resources);
  }
  return out;
}

Result<Adjustment> adjustmentFromProto(const pb::ContainerAdjustment& in) {
  Adjustment out;
  if (in.has_linux() && in.linux().has_resources()) {
    auto resources = resourcesFromProto(in.linux().resources());
    if (!resources.has_value()) return resources.error().withContext("container adjustment");
    out.resources = std::move(*resources);
  }
  return out;
}

void adjustmentToProto(const Adjustment& in, pb::ContainerAdjustment* out) {
  if (in.resources.empty()) return;
  resourcesToProto(in.resources, out->mutable_linux()->mutable_resources());
}

void updateToProto(const Update& in, pb::ContainerUpdate* out) {
  out->set_container_id(in.container_id);
  out->set_ignore_failure(in.ignore_failure);
  resourcesToProto(in.resources, out->mutable_linux()->mutable_resources());
}

void podToProto(const Pod& in, pb::PodSandbox* out) {
  out->set_id(in.id);
  out->set_uid(in.uid);
  out->set_namespace_(in.namespace_name);
  out->set_name(in.name);
  fromMap(in.labels, out->mutable_labels());
  fromMap(in.annotations, out->mutable_annotations());
  out->set_runtime_handler(in.runtime_handler);
  out->set_pid(in.pid);
  pb::LinuxPodSandbox* linux = out->mutable_linux();
  linux->set_cgroup_parent(in.cgroup_parent);
  linux->set_cgroups_path(in.cgroups_path);
  if (in.pod_resources) resourcesToProto(*in.pod_resources, linux->mutable_pod_resources());
  if (in.pod_overhead) resourcesToProto(*in.pod_overhead, linux->mutable_pod_overhead());
}

void containerToProto(const Container& in, pb::Container* out) {
  out->set_id(in.id);
  out->set_pod_sandbox_id(in.pod_id);
  out->set_name(in.name);
  out->set_state(stateToProto(in.state));
  fromMap(in.labels, out->mutable_labels());
  fromMap(in.annotations, out->mutable_annotations());
  out->set_pid(in.pid);
  pb::LinuxContainer* linux = out->mutable_linux();
  linux->set_cgroups_path(in.cgroups_path);
  if (in.oom_score_adj) linux->mutable_oom_score_adj()->set_value(*in.oom_score_adj);
  resourcesToProto(in.resources, linux->mutable_resources());
  for (const LinuxDevice& device : in.devices) {
    pb::LinuxDevice* added = linux->add_devices();
    added->set_path(device.path);
    added->set_type(device.type);
    added->set_major(device.major);
    added->set_minor(device.minor);
  }
}

}  // namespace topod::nri
