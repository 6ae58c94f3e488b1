// How the CLI shows the API's answers: text for people, JSON for scripts. Names that came from
// the runtime are escaped in text output (a newline in a pod name cannot forge a line).
#pragma once

#include <string>
#include <vector>

#include "api/backend.h"

namespace topod::api {

std::string formatStatus(const StatusInfo& status);
std::string formatStatusJson(const StatusInfo& status);
std::string formatAllocationsTable(const std::vector<AllocationInfo>& allocations);
std::string formatAllocationsJson(const std::vector<AllocationInfo>& allocations);
std::string formatExplanations(const std::vector<ContainerExplanation>& explanations);
std::string formatExplanationsJson(const std::vector<ContainerExplanation>& explanations);

}  // namespace topod::api
