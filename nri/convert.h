// Conversions between NRI protobuf messages and topod's plain types (nri/types.h). Internal to
// nri/ and the NRI test tools: this is the one place that knows both representations.
#pragma once

#include <string_view>

#include "common/result.h"
#include "nri/proto/nri_api.pb.h"
#include "nri/types.h"

namespace topod::nri {

namespace pb = ::nri::pkg::api::v1alpha1;

// QoS class as the kubelet's cgroup layout implies (docs/nri.md, "Pod and container facts"; nri-plugins does the same):
// a pod cgroup parent containing "besteffort" or "burstable" names the class, any other
// non-empty parent is Guaranteed (those pods sit directly under kubepods). Without a parent the
// container's hints decide: oom_score_adj -997 / 1000, or BestEffort's cpu shares of 2 with no
// memory limit; otherwise Burstable, the class that promises least beyond the request.
QosClass inferQosClass(std::string_view cgroup_parent, const Container* container);

// Runtime -> topod. Errors name the object and the bad field (e.g. an unparsable cpuset).
Result<LinuxResources> resourcesFromProto(const pb::LinuxResources& in);
Result<Pod> podFromProto(const pb::PodSandbox& in);
Result<Container> containerFromProto(const pb::Container& in);
Result<Update> updateFromProto(const pb::ContainerUpdate& in);
Result<Adjustment> adjustmentFromProto(const pb::ContainerAdjustment& in);

// topod -> runtime.
void resourcesToProto(const LinuxResources& in, pb::LinuxResources* out);
void adjustmentToProto(const Adjustment& in, pb::ContainerAdjustment* out);
void updateToProto(const Update& in, pb::ContainerUpdate* out);
// For the runtime simulator, which plays the runtime's side.
void podToProto(const Pod& in, pb::PodSandbox* out);
void containerToProto(const Container& in, pb::Container* out);

}  // namespace topod::nri
