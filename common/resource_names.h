// Kubernetes' names for node resources, used by the configuration, the simulator, the policies'
// accounting and the topology report (NodeResourceTopology); one definition so they can never
// disagree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod {

inline constexpr std::string_view kResourceCpu = "cpu";
inline constexpr const char* kResourceMemory = "memory";
inline constexpr std::string_view kHugepagesPrefix = "hugepages-";

// "hugepages-2Mi", "hugepages-1Gi", "hugepages-64Ki": the size as Kubernetes prints it
// (formatByteQuantity, common/quantity.h).
std::string hugepageResourceName(uint64_t page_size_bytes);

// The page size a "hugepages-<size>" name stands for, in bytes. The size is a quantity
// (parseByteQuantity) that must be a power of two: "hugepages-2Mi" and "hugepages-2048Ki" both
// mean 2 MiB pages. InvalidArgument naming the resource otherwise.
Result<uint64_t> hugepageSizeOf(std::string_view resource);

// Whether `resource` is a well-formed huge page resource name (hugepageSizeOf succeeds).
bool isHugepageResourceName(std::string_view resource);

// Whether `resource` starts with "hugepages-", well-formed or not.
bool hasHugepagePrefix(std::string_view resource);

}  // namespace topod
