#include "topology/hwloc_import.h"

#include <fcntl.h>
#include <hwloc.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace topod::topology::detail {
namespace {

// Owns an hwloc topology for the length of one import.
class HwlocTopology {
 public:
  HwlocTopology() = default;
  HwlocTopology(const HwlocTopology&) = delete;
  HwlocTopology& operator=(const HwlocTopology&) = delete;
  ~HwlocTopology() {
    if (topology_ != nullptr) hwloc_topology_destroy(topology_);
  }
  Status init() {
    // Built against one hwloc ABI, running with another: structures would be misread.
    if ((hwloc_get_api_version() >> 16) != (HWLOC_API_VERSION >> 16)) {
      return Error::failedPrecondition("hwloc: the library's API version differs from the one topod was built with");
    }
    if (hwloc_topology_init(&topology_) != 0) {
      topology_ = nullptr;
      return Error::fromErrno(errno, "hwloc: cannot initialise a topology");
    }
    return okStatus();
  }
  hwloc_topology_t get() const { return topology_; }

 private:
  hwloc_topology_t topology_ = nullptr;
};

int osIndex(const hwloc_obj* obj) {
  return obj->os_index == HWLOC_UNKNOWN_INDEX ? -1 : static_cast<int>(obj->os_index);
}

Result<CpuSet> toCpuSet(hwloc_const_bitmap_t bitmap, const char* what) {
  CpuSet set;
  if (bitmap == nullptr) return set;
  if (hwloc_bitmap_weight(bitmap) < 0) return Error::invalidArgument(std::string("hwloc: ") + what + " is infinite");
  for (int id = hwloc_bitmap_first(bitmap); id != -1; id = hwloc_bitmap_next(bitmap, id)) {
    if (id > CpuSet::kMaxId) {
      return Error::invalidArgument(std::string("hwloc: ") + what + " holds CPU " + std::to_string(id) +
                                    ", above the kernel's limit " + std::to_string(CpuSet::kMaxId));
    }
    set.insert(id);
  }
  return set;
}

MemoryKind kindFromSubtype(const char* subtype) {
  if (subtype == nullptr) return MemoryKind::Unknown;
  // Subtypes hwloc sets on Linux (topology-linux.c) and that XML exports carry.
  if (strcasecmp(subtype, "DRAM") == 0) return MemoryKind::Dram;
  if (strcasecmp(subtype, "HBM") == 0 || strcasecmp(subtype, "MCDRAM") == 0) return MemoryKind::Hbm;
  if (strcasecmp(subtype, "NVM") == 0) return MemoryKind::Nvm;
  if (strcasecmp(subtype, "SPM") == 0) return MemoryKind::SpecificPurpose;
  if (strncasecmp(subtype, "CXL", 3) == 0) return MemoryKind::Cxl;
  return MemoryKind::Unknown;
}

// NUMA nodes attached to obj as memory children (through memory-side caches too).
void collectMemoryNodes(hwloc_obj_t obj, std::vector<hwloc_obj_t>& out) {
  for (hwloc_obj_t child = obj->memory_first_child; child != nullptr; child = child->next_sibling) {
    if (child->type == HWLOC_OBJ_NUMANODE) {
      out.push_back(child);
    } else {
      collectMemoryNodes(child, out);
    }
  }
}

// The node the kernel would call local to obj: the nearest ancestor with memory attached, and
// there ordinary memory before HBM/NVM/CXL (which hwloc attaches beside the DRAM node with the
// same locality, while the kernel lists those nodes without CPUs), then the lowest id.
hwloc_obj_t localNode(hwloc_obj_t obj) {
  for (; obj != nullptr; obj = obj->parent) {
    std::vector<hwloc_obj_t> nodes;
    collectMemoryNodes(obj, nodes);
    if (nodes.empty()) continue;
    auto rank = [](hwloc_obj_t node) {
      MemoryKind kind = kindFromSubtype(node->subtype);
      bool ordinary = kind == MemoryKind::Unknown || kind == MemoryKind::Dram;
      return std::make_pair(ordinary ? 0 : 1, node->os_index);
    };
    return *std::min_element(nodes.begin(), nodes.end(),
                             [&](hwloc_obj_t a, hwloc_obj_t b) { return rank(a) < rank(b); });
  }
  return nullptr;
}

std::optional<DeviceClass> classOfPci(unsigned class_id) {
  // PCI class codes (PCI Code and ID Assignment spec): base class in the high byte.
  const unsigned base = class_id >> 8;
  switch (base) {
    case 0x01: return DeviceClass::Storage;      // mass storage (NVMe, SAS, ...)
    case 0x02: return DeviceClass::Nic;          // network (Ethernet, InfiniBand, ...)
    case 0x03: return DeviceClass::Gpu;          // display (VGA, 3D controller)
    case 0x12: return DeviceClass::Accelerator;  // processing accelerators
    default: break;
  }
  if (class_id == 0x0b40) return DeviceClass::Accelerator;  // co-processor
  return std::nullopt;
}

Status addDevices(hwloc_topology_t topo, TopologyBuilder& builder, const std::vector<int>& node_ids) {
  for (hwloc_obj_t dev = hwloc_get_next_pcidev(topo, nullptr); dev != nullptr; dev = hwloc_get_next_pcidev(topo, dev)) {
    const auto& pci = dev->attr->pcidev;
    std::optional<DeviceClass> klass = classOfPci(pci.class_id);
    if (!klass.has_value()) continue;
    char address[32];
    std::snprintf(address, sizeof(address), "%04x:%02x:%02x.%x", static_cast<unsigned>(pci.domain),
                  static_cast<unsigned>(pci.bus), static_cast<unsigned>(pci.dev), static_cast<unsigned>(pci.func));
    std::string names;
    for (hwloc_obj_t child = dev->io_first_child; child != nullptr; child = child->next_sibling) {
      if (child->type != HWLOC_OBJ_OS_DEVICE || child->name == nullptr) continue;
      if (!names.empty()) names += ',';
      names += child->name;
    }
    // A device hanging off the whole machine has no locality, unless the machine has only one
    // node (then every device is local to it, whatever the firmware says).
    hwloc_obj_t anchor = hwloc_get_non_io_ancestor_obj(topo, dev);
    int numa = -1;
    if (node_ids.size() == 1) {
      numa = node_ids.front();
    } else if (anchor != nullptr && anchor->parent != nullptr) {
      hwloc_obj_t node = localNode(anchor);
      if (node != nullptr) numa = osIndex(node);
    }
    builder.addDevice({.address = address,
                       .klass = *klass,
                       .vendor_id = pci.vendor_id,
                       .device_id = pci.device_id,
                       .name = names,
                       .numa = numa});
  }
  return okStatus();
}

Status addDistances(hwloc_topology_t topo, TopologyBuilder& builder, const std::vector<int>& node_ids) {
  unsigned count = 0;
  if (hwloc_distances_get_by_type(topo, HWLOC_OBJ_NUMANODE, &count, nullptr, HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) !=
          0 ||
      count == 0) {
    return okStatus();  // no SLIT: the builder's kernel-style default applies
  }
  std::vector<hwloc_distances_s*> all(count, nullptr);
  if (hwloc_distances_get_by_type(topo, HWLOC_OBJ_NUMANODE, &count, all.data(), HWLOC_DISTANCES_KIND_MEANS_LATENCY,
                                  0) != 0) {
    return Error::fromErrno(errno, "hwloc: cannot read NUMA distances");
  }
  // Prefer the firmware's matrix (SLIT, FROM_OS) over user-provided ones.
  hwloc_distances_s* chosen = all[0];
  for (unsigned i = 0; i < count; ++i) {
    if ((all[i]->kind & HWLOC_DISTANCES_KIND_FROM_OS) != 0) {
      chosen = all[i];
      break;
    }
  }
  std::map<int, std::size_t> position;
  for (std::size_t i = 0; i < node_ids.size(); ++i) position[node_ids[i]] = i;
  const std::size_t n = node_ids.size();
  std::vector<std::vector<int>> matrix(n, std::vector<int>(n, 20));
  for (std::size_t i = 0; i < n; ++i) matrix[i][i] = 10;
  Status status;
  for (unsigned a = 0; a < chosen->nbobjs && status.has_value(); ++a) {
    for (unsigned b = 0; b < chosen->nbobjs; ++b) {
      auto pa = position.find(osIndex(chosen->objs[a]));
      auto pb = position.find(osIndex(chosen->objs[b]));
      if (pa == position.end() || pb == position.end()) continue;
      hwloc_uint64_t value = chosen->values[a * chosen->nbobjs + b];
      if (value > 255) {
        status = Error::invalidArgument("hwloc: NUMA distance " + std::to_string(value) + " between nodes " +
                                        std::to_string(pa->first) + " and " + std::to_string(pb->first) +
                                        " is not a SLIT value (1-255)");
        break;
      }
      matrix[pa->second][pb->second] = static_cast<int>(value);
    }
  }
  for (hwloc_distances_s* d : all) hwloc_distances_release(topo, d);
  TOPOD_RETURN_IF_ERROR(status);
  builder.setDistances(std::move(matrix));
  return okStatus();
}

Result<TopologyBuilder> convert(hwloc_topology_t topo) {
  TopologyBuilder builder;
  auto online = toCpuSet(hwloc_topology_get_topology_cpuset(topo), "the machine's cpuset");
  if (!online.has_value()) return online.error();
  auto complete = toCpuSet(hwloc_topology_get_complete_cpuset(topo), "the machine's complete cpuset");
  if (!complete.has_value()) return complete.error();
  builder.setOfflineCpus(*complete - *online);

  // NUMA nodes, ascending by id.
  std::vector<int> node_ids;
  for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, nullptr); node != nullptr;
       node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)) {
    if (osIndex(node) < 0) return Error::invalidArgument("hwloc: a NUMA node has no OS index");
    NumaNodeSpec spec{.id = osIndex(node), .memory_bytes = node->attr->numanode.local_memory};
    const auto& mem = node->attr->numanode;
    // hwloc lists the base page first (sorted by size); the rest are huge page pools.
    for (unsigned i = 1; i < mem.page_types_len; ++i) spec.hugepages[mem.page_types[i].size] = mem.page_types[i].count;
    spec.kind = kindFromSubtype(node->subtype);
    hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, node);
    spec.package = package != nullptr ? osIndex(package) : -1;
    builder.addNumaNode(spec);
    node_ids.push_back(spec.id);
  }
  std::sort(node_ids.begin(), node_ids.end());

  // L3 groups get dense indexes in order of their first CPU.
  std::vector<std::pair<int, hwloc_obj_t>> l3_by_first_cpu;
  for (hwloc_obj_t l3 = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_L3CACHE, nullptr); l3 != nullptr;
       l3 = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_L3CACHE, l3)) {
    int first = hwloc_bitmap_first(l3->cpuset);
    if (first >= 0) l3_by_first_cpu.emplace_back(first, l3);
  }
  std::sort(l3_by_first_cpu.begin(), l3_by_first_cpu.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<hwloc_obj_t, int> l3_index;
  for (const auto& [first, l3] : l3_by_first_cpu) {
    int index = static_cast<int>(l3_index.size());
    l3_index[l3] = index;
    builder.setL3Size(index, l3->attr->cache.size);
  }

  for (hwloc_obj_t pu = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, nullptr); pu != nullptr;
       pu = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, pu)) {
    const int id = osIndex(pu);
    if (id < 0) return Error::invalidArgument("hwloc: a PU has no OS index");
    if (!online->contains(id)) continue;
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
    hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
    hwloc_obj_t die = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_DIE, pu);
    hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_L3CACHE, pu);
    hwloc_obj_t node = localNode(pu);
    if (node == nullptr) return Error::invalidArgument("hwloc: CPU " + std::to_string(id) + " has no NUMA node");
    Cpu cpu{.id = id,
            .package = package != nullptr ? std::max(osIndex(package), 0) : 0,
            .die = die != nullptr ? std::max(osIndex(die), 0) : 0,
            // Without a Core level every PU is its own core.
            .core_id = core != nullptr ? osIndex(core) : id,
            .l3 = l3 != nullptr ? l3_index.at(l3) : -1,
            .numa = osIndex(node)};
    if (cpu.core_id < 0)
      return Error::invalidArgument("hwloc: the core of CPU " + std::to_string(id) + " has no OS index");
    builder.addCpu(cpu);
  }
  TOPOD_RETURN_IF_ERROR(addDistances(topo, builder, node_ids));
  TOPOD_RETURN_IF_ERROR(addDevices(topo, builder, node_ids));
  return builder;
}

Result<TopologyBuilder> loadAndConvert(HwlocInput input, const std::string& text) {
  HwlocTopology topo;
  TOPOD_RETURN_IF_ERROR(topo.init());
  switch (input) {
    case HwlocInput::Live: break;
    case HwlocInput::XmlFile:
      if (hwloc_topology_set_xml(topo.get(), text.c_str()) != 0) {
        return Error::fromErrno(errno, "hwloc cannot use the XML file");
      }
      break;
    case HwlocInput::XmlBuffer: {
      // hwloc wants the length including a terminating NUL; std::string provides one.
      if (text.size() >= static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return Error::invalidArgument("XML document too large for hwloc");
      }
      if (hwloc_topology_set_xmlbuffer(topo.get(), text.c_str(), static_cast<int>(text.size() + 1)) != 0) {
        return Error::fromErrno(errno, "hwloc cannot use the XML document");
      }
      break;
    }
    case HwlocInput::Synthetic:
      if (hwloc_topology_set_synthetic(topo.get(), text.c_str()) != 0) {
        return Error::invalidArgument(
            "hwloc rejects the synthetic description (expected levels such as "
            "\"pack:2 numa:2 l3:2 core:4 pu:2\")");
      }
      break;
  }
  // Every CPU of the machine, not just those our cgroup may use: the model describes hardware.
  hwloc_topology_set_flags(topo.get(), HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  hwloc_topology_set_io_types_filter(topo.get(), HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  // Only L3 matters to the model; dropping the other caches keeps loading cheap.
  hwloc_topology_set_cache_types_filter(topo.get(), HWLOC_TYPE_FILTER_KEEP_NONE);
  hwloc_topology_set_icache_types_filter(topo.get(), HWLOC_TYPE_FILTER_KEEP_NONE);
  hwloc_topology_set_type_filter(topo.get(), HWLOC_OBJ_L3CACHE, HWLOC_TYPE_FILTER_KEEP_ALL);
  if (hwloc_topology_load(topo.get()) != 0) {
    return Error::fromErrno(errno, input == HwlocInput::Live
                                       ? "hwloc cannot discover this machine"
                                       : "hwloc cannot load it (malformed or not an hwloc XML topology)");
  }
  return convert(topo.get());
}

// hwloc trusts the documents it imports: hwloc 2.9's XML import crashes inside
// hwloc_topology_load() on documents it should refuse (a one-character edit of a fixture that
// leaves an object with a cpuset but no complete_cpuset dereferences the missing set), and
// neither its return values nor any flag or check of ours can catch that in this process. So a
// document from outside (XML, synthetic) is loaded once in a child process first: only if the
// child returns (with a topology or a clean error) does this process load it. Some documents
// also make hwloc work for seconds (mangled nesting); the child gets kChildSeconds, a hundred
// times what the largest real machine takes. The cost is one fork and a second load of a file
// read once at start-up.
constexpr unsigned kChildSeconds = 5;

Status survivesInChild(HwlocInput input, const std::string& text) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Error::fromErrno(errno, "hwloc: cannot fork to check the document");
  if (pid == 0) {
    // A crash must end the child by its signal, not through a sanitizer's or fuzzer's handler.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM}) ::signal(sig, SIG_DFL);
    // The caller may block signals for a signal-handling thread (topod run does); the alarm must
    // still end the child.
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    ::sigprocmask(SIG_UNBLOCK, &alarm_only, nullptr);
    ::alarm(kChildSeconds);
    // hwloc's own complaints are printed once, by the load in the parent.
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    (void)loadAndConvert(input, text);
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::fromErrno(errno, "hwloc: waiting for the child that checks the document");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return okStatus();
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    return Error::invalidArgument("hwloc did not finish loading it within " + std::to_string(kChildSeconds) +
                                  " s (in a child process): malformed or not an hwloc topology");
  }
  const std::string how = WIFSIGNALED(status) ? std::string("signal ") + ::strsignal(WTERMSIG(status))
                                              : "exit status " + std::to_string(WEXITSTATUS(status));
  return Error::invalidArgument("hwloc crashed loading it (" + how +
                                " in a child process): malformed or not an hwloc topology");
}

}  // namespace

Result<TopologyBuilder> importHwloc(HwlocInput input, const std::string& text) {
  if (input != HwlocInput::Live) TOPOD_RETURN_IF_ERROR(survivesInChild(input, text));
  return loadAndConvert(input, text);
}

}  // namespace topod::topology::detail
