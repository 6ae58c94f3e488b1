// The pod fingerprint of NodeResourceTopology objects ("nodeTopologyPodsFingerprint"), computed
// as the podfingerprint library (k8stopologyawareschedwg/podfingerprint, version v001) does, so a
// scheduler with the reserve cache can tell whether the object reflects the pods it knows:
//   per pod h = XXH64(name, seed = XXH64(namespace, seed 0)); the h sorted ascending, each as 8
//   little-endian bytes, hashed again with XXH64 (seed 0); the result "pfp0" + "v001" + the 16
//   hex digits of that sum (most significant byte first).
// tests/kube/pod_fingerprint_test.cc checks it against the library's published test data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace topod::kube {

inline constexpr const char* kFingerprintAttribute = "nodeTopologyPodsFingerprint";
inline constexpr const char* kFingerprintMethodAttribute = "nodeTopologyPodsFingerprintMethod";
inline constexpr const char* kFingerprintMethodAll = "all";

// XXH64 of `data` with `seed` (the reference algorithm; no library dependency).
uint64_t xxhash64(std::string_view data, uint64_t seed = 0);

struct PodName {
  std::string namespace_name;
  std::string name;
};

std::string podFingerprint(const std::vector<PodName>& pods);

}  // namespace topod::kube
