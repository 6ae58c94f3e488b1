// ContainerRequest <-> JSON, as stored in the state document (state_json.h) and echoed by the
// simulator. Exact numbers, no quantities:
//   { "name": "app", "kind": "app" | "init" | "sidecar",
//     "cpu_request_millis": 2000, "cpu_limit_millis": 2000,
//     "memory_request_bytes": 1073741824, "memory_limit_bytes": 1073741824,
//     "hugepages": { "2097152": 4194304 },            // page size in bytes -> bytes requested
//     "devices": [ { "resource": "nvidia.com/gpu", "id": "0000:17:00.0", "numa": 0 } ] }
// Every field is optional on input (zero/empty defaults); output writes them all.
// Internal to policies/: include only from .cc files (it pulls in nlohmann/json.hpp).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "policies/request.h"
#include "state/json_fields.h"

namespace topod::policies {

std::string_view containerKindName(ContainerKind kind);
Result<ContainerKind> parseContainerKind(std::string_view name);

json::Json containerRequestToJson(const ContainerRequest& request);
Result<ContainerRequest> containerRequestFromJson(const json::Json& value, const std::string& source,
                                                  const std::string& path);

}  // namespace topod::policies
