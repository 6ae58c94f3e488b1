// The hardware topology model: an immutable value describing one machine's packages, dies, NUMA
// nodes, L3 (uncore) cache groups, cores, logical CPUs (PUs), isolated/offline CPUs and the PCI
// devices whose locality matters (GPUs, NICs, accelerators).
//
// Built only by TopologyBuilder::build() (which validates and derives every index) and by the
// loaders in loaders.h. Copyable, comparable, cheap to query, safe to share between threads.
// hwloc never appears here (STYLE.md practice 2).
//
// Ids: CPUs, NUMA nodes, packages and dies carry the ids the kernel gives them (sparse ids are
// fine). Cores are identified by (package, die, core_id) as in sysfs, where core_id is only unique
// within a package; `Core::index` is a dense index for arrays. L3 groups are identified by their
// dense index in order of their first CPU (sysfs cache/index3/id numbers them the same way on the
// machines we know).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"

namespace topod::topology {

// What kind of memory a NUMA node holds, where the firmware or hwloc says so.
enum class MemoryKind { Unknown, Dram, Hbm, Nvm, Cxl, SpecificPurpose };
std::string_view memoryKindName(MemoryKind kind);
Result<MemoryKind> parseMemoryKind(std::string_view name);

enum class DeviceClass { Gpu, Nic, Accelerator, Storage, Other };
std::string_view deviceClassName(DeviceClass klass);
Result<DeviceClass> parseDeviceClass(std::string_view name);

// One online logical CPU and where it sits.
struct Cpu {
  int id = 0;       // Linux CPU number
  int package = 0;  // physical_package_id
  int die = 0;      // die_id (0 where the kernel has no dies)
  int core_id = 0;  // core_id, unique within its package
  int l3 = -1;      // dense L3 group index, -1 when the CPU has no L3
  int numa = 0;     // NUMA node id
  friend bool operator==(const Cpu&, const Cpu&) = default;
};

struct Core {
  int index = 0;  // dense, in order of first CPU
  int package = 0;
  int die = 0;
  int core_id = 0;
  int l3 = -1;
  int numa = 0;
  CpuSet cpus;  // SMT siblings, including this core's first CPU
  friend bool operator==(const Core&, const Core&) = default;
};

struct L3Group {
  int index = 0;
  uint64_t size_bytes = 0;  // 0 when unknown
  CpuSet cpus;
  NodeSet numa_nodes;  // nodes whose CPUs share this cache (usually one)
  friend bool operator==(const L3Group&, const L3Group&) = default;
};

struct NumaNode {
  int id = 0;
  uint64_t memory_bytes = 0;
  // Huge page size in bytes -> number of pages configured on this node.
  std::map<uint64_t, uint64_t> hugepages;
  MemoryKind kind = MemoryKind::Unknown;
  CpuSet cpus;  // empty for memory-only nodes (CXL, HBM in flat mode)
  friend bool operator==(const NumaNode&, const NumaNode&) = default;
};

struct Die {
  int package = 0;
  int id = 0;
  CpuSet cpus;
  friend bool operator==(const Die&, const Die&) = default;
};

struct Package {
  int id = 0;
  CpuSet cpus;
  NodeSet numa_nodes;  // nodes with CPUs in this package, plus memory-only nodes attached to it
  friend bool operator==(const Package&, const Package&) = default;
};

struct PciDevice {
  std::string address;  // "0000:17:00.0"
  DeviceClass klass = DeviceClass::Other;
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  std::string name;  // OS device names where known ("nvidia0", "eth0"), else empty
  int numa = -1;     // -1 when the firmware does not say
  friend bool operator==(const PciDevice&, const PciDevice&) = default;
};

// Input to TopologyBuilder for a NUMA node.
struct NumaNodeSpec {
  int id = 0;
  uint64_t memory_bytes = 0;
  std::map<uint64_t, uint64_t> hugepages;
  MemoryKind kind = MemoryKind::Unknown;
  // Package a memory-only node belongs to, -1 for none/unknown. Ignored for nodes with CPUs.
  int package = -1;
};

class Topology {
 public:
  // The empty machine; only useful as a placeholder before a loader runs.
  Topology() = default;

  const std::vector<Cpu>& cpus() const { return cpus_; }  // ascending by id
  const std::vector<Core>& cores() const { return cores_; }
  const std::vector<L3Group>& l3Groups() const { return l3_groups_; }
  const std::vector<NumaNode>& numaNodes() const { return numa_nodes_; }  // ascending by id
  const std::vector<Die>& dies() const { return dies_; }
  const std::vector<Package>& packages() const { return packages_; }  // ascending by id
  const std::vector<PciDevice>& devices() const { return devices_; }  // ascending by address

  const CpuSet& onlineCpus() const { return online_; }
  const CpuSet& offlineCpus() const { return offline_; }
  // Isolated (isolcpus=) CPUs; a subset of the online CPUs.
  const CpuSet& isolatedCpus() const { return isolated_; }
  NodeSet numaNodeIds() const;

  // Per-CPU queries. Calling them for a CPU that is not online is a programming error
  // (terminates); check onlineCpus().contains() first when the id comes from input.
  const Cpu& cpu(int cpu_id) const;
  const Core& coreOf(int cpu_id) const { return cores_[static_cast<std::size_t>(core_of_[index(cpu_id)])]; }
  CpuSet siblingsOf(int cpu_id) const { return coreOf(cpu_id).cpus; }
  int numaOf(int cpu_id) const { return cpu(cpu_id).numa; }
  int packageOf(int cpu_id) const { return cpu(cpu_id).package; }
  int l3Of(int cpu_id) const { return cpu(cpu_id).l3; }

  // Per-node queries; nullptr / empty when the node does not exist.
  const NumaNode* numaNode(int node_id) const;
  CpuSet cpusOfNuma(int node_id) const;
  CpuSet cpusOfNumaNodes(const NodeSet& nodes) const;
  const Package* package(int package_id) const;
  // NUMA distance as in the SLIT table (10 = local). -1 when either node does not exist.
  int distance(int from_node, int to_node) const;
  // Row-major matrix over numaNodes() order.
  const std::vector<std::vector<int>>& distances() const { return distances_; }

  const PciDevice* device(std::string_view address) const;
  int threadsPerCore() const;  // the largest SMT width of any core (1 without SMT)

  friend bool operator==(const Topology&, const Topology&) = default;

 private:
  friend class TopologyBuilder;
  std::size_t index(int cpu_id) const;

  std::vector<Cpu> cpus_;
  std::vector<Core> cores_;
  std::vector<L3Group> l3_groups_;
  std::vector<NumaNode> numa_nodes_;
  std::vector<Die> dies_;
  std::vector<Package> packages_;
  std::vector<PciDevice> devices_;
  std::vector<std::vector<int>> distances_;
  CpuSet online_;
  CpuSet offline_;
  CpuSet isolated_;
  // Dense lookup tables indexed by CPU id (size = max online id + 1; -1 for absent CPUs).
  std::vector<int> cpu_slot_;
  std::vector<int> core_of_;
};

// Assembles a Topology from explicit facts; every loader ends here, so every loader gets the same
// validation. Typical test use:
//   TopologyBuilder b;
//   for (int cpu = 0; cpu < 8; ++cpu) b.addCpu({.id = cpu, .core_id = cpu / 2, .l3 = 0, .numa = 0});
//   b.addNumaNode({.id = 0, .memory_bytes = 64ULL << 30});
//   Topology t = b.build().value();
class TopologyBuilder {
 public:
  TopologyBuilder& addCpu(const Cpu& cpu);
  // CPUs with no entry here (or memory/hugepages) get a node with 0 bytes and Unknown kind.
  TopologyBuilder& addNumaNode(const NumaNodeSpec& node);
  TopologyBuilder& setL3Size(int l3_index, uint64_t size_bytes);
  // Square matrix over the NUMA node ids in ascending order. Without one, distances default to
  // 10 on the diagonal and 20 elsewhere (the kernel's default when firmware has no SLIT).
  TopologyBuilder& setDistances(std::vector<std::vector<int>> matrix);
  TopologyBuilder& setOfflineCpus(const CpuSet& cpus);
  TopologyBuilder& setIsolatedCpus(const CpuSet& cpus);
  TopologyBuilder& addDevice(const PciDevice& device);

  // Validates (unique CPU ids, a core's CPUs agree on package/die/L3/NUMA, L3 indexes dense,
  // offline CPUs not online, isolated CPUs online, distances square and positive with 10 on
  // the diagonal, devices on existing nodes, ...) and derives every index.
  Result<Topology> build() const;

 private:
  std::vector<Cpu> cpus_;
  std::vector<NumaNodeSpec> nodes_;
  std::map<int, uint64_t> l3_sizes_;
  std::vector<std::vector<int>> distances_;
  CpuSet offline_;
  CpuSet isolated_;
  std::vector<PciDevice> devices_;
};

}  // namespace topod::topology
