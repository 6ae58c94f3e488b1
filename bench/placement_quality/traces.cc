#include "bench/placement_quality/traces.h"

#include <map>
#include <random>

namespace topod::bench {

std::vector<TraceEvent> makeTrace(const topology::Topology& topology, const TraceShape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> gpu_nodes;
  for (const topology::PciDevice& device : topology.devices()) {
    if (device.klass == topology::DeviceClass::Gpu && device.numa >= 0) gpu_nodes.push_back(device.numa);
  }
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::vector<std::string> live;
  std::vector<TraceEvent> events;
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  std::map<std::string, int64_t> live_millis;
  int64_t load_millis = 0;
  auto removeOne = [&]() {
    std::size_t victim = std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng);
    events.push_back({false, {.uid = live[victim]}});
    load_millis -= live_millis[live[victim]];
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
  };
  for (int i = 0; i < shape.events; ++i) {
    if (!live.empty() && coin(rng) < shape.remove_probability) {
      removeOne();
      continue;
    }
    TracePod pod;
    pod.uid = "pod-" + std::to_string(i);
    if (coin(rng) < shape.burstable_share) {
      pod.guaranteed = false;
      pod.burstable_millis = 250 * std::uniform_int_distribution<int>(1, 8)(rng);
      pod.memory = kGiB * static_cast<uint64_t>(std::uniform_int_distribution<int>(1, 4)(rng));
      if (!gpu_nodes.empty() && coin(rng) < shape.gpu_share / 2) {
        pod.gpu_node = gpu_nodes[std::uniform_int_distribution<std::size_t>(0, gpu_nodes.size() - 1)(rng)];
      }
    } else {
      pod.cpus = shape.sizes[std::uniform_int_distribution<std::size_t>(0, shape.sizes.size() - 1)(rng)];
      pod.memory =
          kGiB * static_cast<uint64_t>(pod.cpus) * static_cast<uint64_t>(std::uniform_int_distribution<int>(1, 4)(rng));
      if (!gpu_nodes.empty() && coin(rng) < shape.gpu_share) {
        pod.gpu_node = gpu_nodes[std::uniform_int_distribution<std::size_t>(0, gpu_nodes.size() - 1)(rng)];
      }
    }
    int64_t millis = pod.guaranteed ? int64_t{1000} * pod.cpus : pod.burstable_millis;
    if (shape.allocatable_cpus > 0 && load_millis + millis > int64_t{1000} * shape.allocatable_cpus) {
      if (!live.empty()) removeOne();
      continue;
    }
    load_millis += millis;
    live_millis[pod.uid] = millis;
    live.push_back(pod.uid);
    events.push_back({true, pod});
  }
  return events;
}

}  // namespace topod::bench
