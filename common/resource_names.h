// Kubernetes' names for node resources that both the topology report (NodeResourceTopology)
// and the policies' accounting use; one definition so the two can never disagree.
#pragma once

#include <cstdint>
#include <string>

namespace topod {

// "hugepages-2Mi", "hugepages-1Gi", "hugepages-64Ki": the size as the largest exact binary
// quantity suffix, as Kubernetes names huge page resources.
std::string hugepageResourceName(uint64_t page_size_bytes);

}  // namespace topod
