// Conversions between NRI protobuf messages and topod's plain types (nri/types.h). Internal to
// nri/ and the NRI test tools: this is the one place that knows both representations. Fields are
// carried as the runtime sent them; what they mean to the kubelet (a pod's QoS class, requests
// from cpu shares) is worked out by the agent (agent/nri_mapping.h).
#pragma once

#include "common/result.h"
#include "nri/proto/nri_api.pb.h"
#include "nri/types.h"

namespace topod::nri {

namespace pb = ::nri::pkg::api::v1alpha1;

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
