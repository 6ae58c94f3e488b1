#include "common/resource_names.h"

namespace topod {

std::string hugepageResourceName(uint64_t page_size_bytes) {
  constexpr uint64_t kKi = 1024;
  constexpr uint64_t kMi = kKi * 1024;
  constexpr uint64_t kGi = kMi * 1024;
  if (page_size_bytes % kGi == 0) return "hugepages-" + std::to_string(page_size_bytes / kGi) + "Gi";
  if (page_size_bytes % kMi == 0) return "hugepages-" + std::to_string(page_size_bytes / kMi) + "Mi";
  if (page_size_bytes % kKi == 0) return "hugepages-" + std::to_string(page_size_bytes / kKi) + "Ki";
  return "hugepages-" + std::to_string(page_size_bytes);
}

}  // namespace topod
