// Plain structs (api/backend.h) <-> the API's protobuf messages. Internal to api/: only its .cc
// files include it, so the generated headers stay out of everything else. Every conversion from
// a message checks it: a peer's bad CPU list or unknown enum name is an error, never a crash.
#pragma once

#include <vector>

#include "api/backend.h"
#include "api/proto/topod_api.pb.h"
#include "common/result.h"

namespace topod::api {

v1::StatusReply toProto(const StatusInfo& status);
Result<StatusInfo> fromProto(const v1::StatusReply& reply);

v1::AllocationsReply toProto(const std::vector<AllocationInfo>& allocations);
Result<std::vector<AllocationInfo>> fromProto(const v1::AllocationsReply& reply);

v1::ExplainReply toProto(const std::vector<ContainerExplanation>& explanations);
Result<std::vector<ContainerExplanation>> fromProto(const v1::ExplainReply& reply);

v1::WhatIfRequest toProto(const policies::PodRequest& pod);
// Also validateWhatIf(): the result may go to the policy as it is.
Result<policies::PodRequest> fromProto(const v1::WhatIfRequest& request);

}  // namespace topod::api
