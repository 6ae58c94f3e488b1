#include "common/resource_names.h"

#include "common/quantity.h"

namespace topod {

std::string hugepageResourceName(uint64_t page_size_bytes) {
  return std::string(kHugepagesPrefix) + formatByteQuantity(page_size_bytes);
}

Result<uint64_t> hugepageSizeOf(std::string_view resource) {
  if (!hasHugepagePrefix(resource)) {
    return Error::invalidArgument("\"" + std::string(resource) + "\" is not a huge page resource (hugepages-<size>)");
  }
  auto size = parseByteQuantity(resource.substr(kHugepagesPrefix.size()));
  if (!size.has_value() || *size == 0 || (*size & (*size - 1)) != 0) {
    return Error::invalidArgument("\"" + std::string(resource) +
                                  "\": huge page size must be a power of two such as 2Mi or 1Gi");
  }
  return *size;
}

bool isHugepageResourceName(std::string_view resource) {
  return hugepageSizeOf(resource).has_value();
}

bool hasHugepagePrefix(std::string_view resource) {
  return resource.starts_with(kHugepagesPrefix);
}

}  // namespace topod
