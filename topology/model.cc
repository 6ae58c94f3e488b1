#include "topology/model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <tuple>

#include "common/check.h"

namespace topod::topology {

std::string_view memoryKindName(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::Unknown: return "unknown";
    case MemoryKind::Dram: return "dram";
    case MemoryKind::Hbm: return "hbm";
    case MemoryKind::Nvm: return "nvm";
    case MemoryKind::Cxl: return "cxl";
    case MemoryKind::SpecificPurpose: return "specific-purpose";
  }
  return "unknown";
}

Result<MemoryKind> parseMemoryKind(std::string_view name) {
  for (MemoryKind kind : {MemoryKind::Unknown, MemoryKind::Dram, MemoryKind::Hbm, MemoryKind::Nvm, MemoryKind::Cxl,
                          MemoryKind::SpecificPurpose}) {
    if (memoryKindName(kind) == name) return kind;
  }
  return Error::invalidArgument("unknown memory kind \"" + std::string(name) +
                                "\" (known: unknown, dram, hbm, nvm, cxl, specific-purpose)");
}

std::string_view deviceClassName(DeviceClass klass) {
  switch (klass) {
    case DeviceClass::Gpu: return "gpu";
    case DeviceClass::Nic: return "nic";
    case DeviceClass::Accelerator: return "accelerator";
    case DeviceClass::Storage: return "storage";
    case DeviceClass::Other: return "other";
  }
  return "other";
}

Result<DeviceClass> parseDeviceClass(std::string_view name) {
  for (DeviceClass klass :
       {DeviceClass::Gpu, DeviceClass::Nic, DeviceClass::Accelerator, DeviceClass::Storage, DeviceClass::Other}) {
    if (deviceClassName(klass) == name) return klass;
  }
  return Error::invalidArgument("unknown device class \"" + std::string(name) +
                                "\" (known: gpu, nic, accelerator, storage, other)");
}

// ---- Topology queries -------------------------------------------------------------------------

std::size_t Topology::index(int cpu_id) const {
  if (cpu_id < 0 || static_cast<std::size_t>(cpu_id) >= cpu_slot_.size() ||
      cpu_slot_[static_cast<std::size_t>(cpu_id)] < 0) {
    std::fprintf(stderr, "topod: fatal: topology query for CPU %d, which is not online (online: %s)\n", cpu_id,
                 online_.toString().c_str());
    std::abort();
  }
  return static_cast<std::size_t>(cpu_id);
}

const Cpu& Topology::cpu(int cpu_id) const {
  return cpus_[static_cast<std::size_t>(cpu_slot_[index(cpu_id)])];
}

NodeSet Topology::numaNodeIds() const {
  NodeSet ids;
  for (const NumaNode& node : numa_nodes_) ids.insert(node.id);
  return ids;
}

const NumaNode* Topology::numaNode(int node_id) const {
  for (const NumaNode& node : numa_nodes_) {
    if (node.id == node_id) return &node;
  }
  return nullptr;
}

CpuSet Topology::cpusOfNuma(int node_id) const {
  const NumaNode* node = numaNode(node_id);
  return node != nullptr ? node->cpus : CpuSet{};
}

CpuSet Topology::cpusOfNumaNodes(const NodeSet& nodes) const {
  CpuSet cpus;
  for (const NumaNode& node : numa_nodes_) {
    if (nodes.contains(node.id)) cpus |= node.cpus;
  }
  return cpus;
}

const Package* Topology::package(int package_id) const {
  for (const Package& pkg : packages_) {
    if (pkg.id == package_id) return &pkg;
  }
  return nullptr;
}

int Topology::distance(int from_node, int to_node) const {
  int from = -1;
  int to = -1;
  for (std::size_t i = 0; i < numa_nodes_.size(); ++i) {
    if (numa_nodes_[i].id == from_node) from = static_cast<int>(i);
    if (numa_nodes_[i].id == to_node) to = static_cast<int>(i);
  }
  if (from < 0 || to < 0) return -1;
  return distances_[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)];
}

const PciDevice* Topology::device(std::string_view address) const {
  for (const PciDevice& dev : devices_) {
    if (dev.address == address) return &dev;
  }
  return nullptr;
}

int Topology::threadsPerCore() const {
  int widest = cores_.empty() ? 0 : 1;
  for (const Core& core : cores_) widest = std::max(widest, core.cpus.size());
  return widest;
}

// ---- TopologyBuilder ---------------------------------------------------------------------------

TopologyBuilder& TopologyBuilder::addCpu(const Cpu& cpu) {
  cpus_.push_back(cpu);
  return *this;
}
TopologyBuilder& TopologyBuilder::addNumaNode(const NumaNodeSpec& node) {
  nodes_.push_back(node);
  return *this;
}
TopologyBuilder& TopologyBuilder::setL3Size(int l3_index, uint64_t size_bytes) {
  l3_sizes_[l3_index] = size_bytes;
  return *this;
}
TopologyBuilder& TopologyBuilder::setDistances(std::vector<std::vector<int>> matrix) {
  distances_ = std::move(matrix);
  return *this;
}
TopologyBuilder& TopologyBuilder::setOfflineCpus(const CpuSet& cpus) {
  offline_ = cpus;
  return *this;
}
TopologyBuilder& TopologyBuilder::setIsolatedCpus(const CpuSet& cpus) {
  isolated_ = cpus;
  return *this;
}
TopologyBuilder& TopologyBuilder::addDevice(const PciDevice& device) {
  devices_.push_back(device);
  return *this;
}

namespace {

Error invalid(const std::string& message) {
  return Error::invalidArgument("topology: " + message);
}

std::string cpuName(int id) {
  return "CPU " + std::to_string(id);
}

}  // namespace

Result<Topology> TopologyBuilder::build() const {
  Topology t;

  // CPUs: unique, valid ids, sorted.
  t.cpus_ = cpus_;
  std::sort(t.cpus_.begin(), t.cpus_.end(), [](const Cpu& a, const Cpu& b) { return a.id < b.id; });
  if (t.cpus_.empty()) return invalid("no online CPUs");
  for (std::size_t i = 0; i < t.cpus_.size(); ++i) {
    const Cpu& c = t.cpus_[i];
    if (c.id < 0 || c.id > CpuSet::kMaxId) return invalid(cpuName(c.id) + ": id out of range");
    if (i > 0 && t.cpus_[i - 1].id == c.id) return invalid(cpuName(c.id) + " listed twice");
    if (c.package < 0 || c.die < 0 || c.core_id < 0) {
      return invalid(cpuName(c.id) + ": negative package, die or core id");
    }
    if (c.numa < 0 || c.numa > NodeSet::kMaxId) return invalid(cpuName(c.id) + ": NUMA node id out of range");
    if (c.l3 < -1) return invalid(cpuName(c.id) + ": L3 index below -1");
    t.online_.insert(c.id);
  }
  if (offline_.intersects(t.online_)) {
    return invalid("CPUs " + (offline_ & t.online_).toString() + " are both online and offline");
  }
  if (!isolated_.isSubsetOf(t.online_)) {
    return invalid("isolated CPUs " + (isolated_ - t.online_).toString() + " are not online");
  }
  t.offline_ = offline_;
  t.isolated_ = isolated_;

  // NUMA nodes: explicit specs plus any node referenced by a CPU.
  std::map<int, NumaNodeSpec> specs;
  for (const NumaNodeSpec& spec : nodes_) {
    if (spec.id < 0 || spec.id > NodeSet::kMaxId)
      return invalid("NUMA node " + std::to_string(spec.id) + ": id out of range");
    if (!specs.emplace(spec.id, spec).second) return invalid("NUMA node " + std::to_string(spec.id) + " listed twice");
  }
  for (const Cpu& c : t.cpus_) specs.try_emplace(c.numa, NumaNodeSpec{.id = c.numa});
  for (const auto& [id, spec] : specs) {
    NumaNode node{
        .id = id, .memory_bytes = spec.memory_bytes, .hugepages = spec.hugepages, .kind = spec.kind, .cpus = {}};
    for (const auto& [page_size, count] : spec.hugepages) {
      (void)count;
      if (page_size == 0 || (page_size & (page_size - 1)) != 0) {
        return invalid("NUMA node " + std::to_string(id) + ": huge page size " + std::to_string(page_size) +
                       " is not a power of two");
      }
    }
    for (const Cpu& c : t.cpus_) {
      if (c.numa == id) node.cpus.insert(c.id);
    }
    t.numa_nodes_.push_back(std::move(node));
  }

  // Cores: CPUs sharing (package, die, core_id); they must agree on L3 and NUMA node.
  std::map<std::tuple<int, int, int>, std::size_t> core_by_key;
  std::vector<std::tuple<int, int, int>> core_order;
  for (const Cpu& c : t.cpus_) {
    auto key = std::make_tuple(c.package, c.die, c.core_id);
    auto [it, inserted] = core_by_key.try_emplace(key, t.cores_.size());
    if (inserted) {
      t.cores_.push_back(Core{.index = static_cast<int>(t.cores_.size()),
                              .package = c.package,
                              .die = c.die,
                              .core_id = c.core_id,
                              .l3 = c.l3,
                              .numa = c.numa,
                              .cpus = {}});
    }
    Core& core = t.cores_[it->second];
    if (core.l3 != c.l3 || core.numa != c.numa) {
      return invalid(cpuName(c.id) + " disagrees with its SMT siblings " + core.cpus.toString() +
                     " on L3 group or NUMA node");
    }
    core.cpus.insert(c.id);
  }

  // L3 groups: dense indexes 0..n-1.
  int max_l3 = -1;
  for (const Cpu& c : t.cpus_) max_l3 = std::max(max_l3, c.l3);
  t.l3_groups_.resize(static_cast<std::size_t>(max_l3 + 1));
  for (std::size_t i = 0; i < t.l3_groups_.size(); ++i) t.l3_groups_[i].index = static_cast<int>(i);
  for (const Cpu& c : t.cpus_) {
    if (c.l3 < 0) continue;
    L3Group& group = t.l3_groups_[static_cast<std::size_t>(c.l3)];
    group.cpus.insert(c.id);
    group.numa_nodes.insert(c.numa);
  }
  for (const L3Group& group : t.l3_groups_) {
    if (group.cpus.empty())
      return invalid("L3 group " + std::to_string(group.index) + " has no CPUs (indexes must be dense)");
    int package = t.cpus_[0].package;
    for (const Cpu& c : t.cpus_) {
      if (c.id == group.cpus.first()) package = c.package;
    }
    for (const Cpu& c : t.cpus_) {
      if (c.l3 == group.index && c.package != package) {
        return invalid("L3 group " + std::to_string(group.index) + " spans packages");
      }
    }
  }
  for (const auto& [index, size] : l3_sizes_) {
    if (index < 0 || static_cast<std::size_t>(index) >= t.l3_groups_.size()) {
      return invalid("size given for L3 group " + std::to_string(index) + ", which has no CPUs");
    }
    t.l3_groups_[static_cast<std::size_t>(index)].size_bytes = size;
  }

  // Packages and dies.
  std::map<int, Package> packages;
  std::map<std::pair<int, int>, Die> dies;
  for (const Cpu& c : t.cpus_) {
    Package& pkg =
        packages.try_emplace(c.package, Package{.id = c.package, .cpus = {}, .numa_nodes = {}}).first->second;
    pkg.cpus.insert(c.id);
    pkg.numa_nodes.insert(c.numa);
    Die& die = dies.try_emplace({c.package, c.die}, Die{.package = c.package, .id = c.die, .cpus = {}}).first->second;
    die.cpus.insert(c.id);
  }
  for (const auto& [id, spec] : specs) {
    bool has_cpus = !t.cpusOfNuma(id).empty();
    if (has_cpus || spec.package < 0) continue;
    auto it = packages.find(spec.package);
    if (it == packages.end()) {
      return invalid("memory-only NUMA node " + std::to_string(id) + " names package " + std::to_string(spec.package) +
                     ", which has no CPUs");
    }
    it->second.numa_nodes.insert(id);
  }
  for (auto& [id, pkg] : packages) t.packages_.push_back(std::move(pkg));
  for (auto& [key, die] : dies) t.dies_.push_back(std::move(die));

  // Distances.
  const std::size_t n = t.numa_nodes_.size();
  if (distances_.empty()) {
    t.distances_.assign(n, std::vector<int>(n, 20));
    for (std::size_t i = 0; i < n; ++i) t.distances_[i][i] = 10;
  } else {
    if (distances_.size() != n) {
      return invalid("distance matrix has " + std::to_string(distances_.size()) + " rows for " + std::to_string(n) +
                     " NUMA nodes");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (distances_[i].size() != n) {
        return invalid("distance matrix row " + std::to_string(i) + " has " + std::to_string(distances_[i].size()) +
                       " entries for " + std::to_string(n) + " NUMA nodes");
      }
      for (std::size_t j = 0; j < n; ++j) {
        int d = distances_[i][j];
        if (d <= 0 || d > 255) return invalid("distance " + std::to_string(d) + " out of range 1-255");
        if (i == j && d != 10) return invalid("distance of a node to itself must be 10, got " + std::to_string(d));
        if (i != j && d <= 10) {
          return invalid("distance between different nodes must exceed 10, got " + std::to_string(d));
        }
      }
    }
    t.distances_ = distances_;
  }

  // Devices: unique addresses, existing nodes.
  t.devices_ = devices_;
  std::sort(t.devices_.begin(), t.devices_.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });
  for (std::size_t i = 0; i < t.devices_.size(); ++i) {
    const PciDevice& dev = t.devices_[i];
    if (dev.address.empty()) return invalid("device with an empty PCI address");
    if (i > 0 && t.devices_[i - 1].address == dev.address) return invalid("device " + dev.address + " listed twice");
    if (dev.numa >= 0 && specs.count(dev.numa) == 0) {
      return invalid("device " + dev.address + " is on NUMA node " + std::to_string(dev.numa) +
                     ", which does not exist");
    }
    if (dev.numa < -1) return invalid("device " + dev.address + ": NUMA node below -1");
  }

  // Lookup tables.
  const std::size_t slots = static_cast<std::size_t>(t.cpus_.back().id) + 1;
  t.cpu_slot_.assign(slots, -1);
  t.core_of_.assign(slots, -1);
  for (std::size_t i = 0; i < t.cpus_.size(); ++i) {
    t.cpu_slot_[static_cast<std::size_t>(t.cpus_[i].id)] = static_cast<int>(i);
  }
  for (const Core& core : t.cores_) {
    for (int cpu : core.cpus) t.core_of_[static_cast<std::size_t>(cpu)] = core.index;
  }
  return t;
}

}  // namespace topod::topology
