#include "topology/text_format.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/quantity.h"

namespace topod::topology {
namespace {

// "1 package", "2 packages".
std::string count(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string cpuList(const CpuSet& cpus) {
  return cpus.empty() ? "none" : cpus.toString();
}

std::string hugepageSummary(const NumaNode& node) {
  if (node.hugepages.empty()) return "";
  std::string out = ", hugepages";
  for (const auto& [size, pages] : node.hugepages) {
    out += " " + formatByteQuantity(size) + ":" + std::to_string(pages);
  }
  return out;
}

std::string nodeLine(const NumaNode& node) {
  return "NUMA node " + std::to_string(node.id) + ": " + std::string(memoryKindName(node.kind)) + ", " +
         formatBytes(node.memory_bytes) + hugepageSummary(node) +
         (node.cpus.empty() ? ", memory only" : ", CPUs " + node.cpus.toString());
}

// One line per L3 group (or "no L3") within the node: its CPUs there and their cores.
void appendCores(const Topology& t, const NumaNode& node, std::string& out) {
  std::map<int, std::vector<const Core*>> by_l3;
  for (const Core& core : t.cores()) {
    if (core.numa == node.id) by_l3[core.l3].push_back(&core);
  }
  for (const auto& [l3, cores] : by_l3) {
    CpuSet cpus;
    for (const Core* core : cores) cpus |= core->cpus;
    std::string line = "    ";
    if (l3 >= 0) {
      const L3Group& group = t.l3Groups()[static_cast<std::size_t>(l3)];
      line += "L3 #" + std::to_string(l3) + (group.size_bytes > 0 ? " (" + formatBytes(group.size_bytes) + ")" : "");
    } else {
      line += "no L3";
    }
    line += ": CPUs " + cpus.toString() + "; cores";
    for (const Core* core : cores) line += " " + std::to_string(core->core_id) + "[" + core->cpus.toString() + "]";
    out += line + "\n";
  }
}

}  // namespace

std::string formatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  double value = static_cast<double>(bytes);
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[48];
  if (value == static_cast<double>(static_cast<uint64_t>(value))) {
    std::snprintf(buf, sizeof(buf), "%llu %s", static_cast<unsigned long long>(value), kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

std::string formatTopologyTree(const Topology& t) {
  std::string out = "Machine: " + count(t.packages().size(), "package") + ", " + count(t.dies().size(), "die") + ", " +
                    count(t.numaNodes().size(), "NUMA node") + ", " + count(t.l3Groups().size(), "L3 group") + ", " +
                    count(t.cores().size(), "core") + ", " + count(t.cpus().size(), "CPU") + " (" +
                    count(static_cast<std::size_t>(t.threadsPerCore()), "thread") + " per core)\n";
  out += "Online CPUs: " + cpuList(t.onlineCpus()) + "; offline: " + cpuList(t.offlineCpus()) +
         "; isolated: " + cpuList(t.isolatedCpus()) + "\n";
  NodeSet shown;
  for (const Package& pkg : t.packages()) {
    std::string dies;
    for (const Die& die : t.dies()) {
      if (die.package == pkg.id) dies += (dies.empty() ? "" : ",") + std::to_string(die.id);
    }
    out += "Package " + std::to_string(pkg.id) + ": CPUs " + pkg.cpus.toString() + ", dies " + dies + "\n";
    for (const NumaNode& node : t.numaNodes()) {
      if (!pkg.numa_nodes.contains(node.id) || shown.contains(node.id)) continue;
      shown.insert(node.id);
      out += "  " + nodeLine(node) + "\n";
      appendCores(t, node, out);
    }
  }
  for (const NumaNode& node : t.numaNodes()) {
    if (!shown.contains(node.id)) out += nodeLine(node) + " (no package)\n";
  }
  out += "NUMA distances:\n      ";
  for (const NumaNode& node : t.numaNodes())
    out +=
        " " + std::string(4 - std::min<std::size_t>(4, std::to_string(node.id).size()), ' ') + std::to_string(node.id);
  out += "\n";
  for (std::size_t i = 0; i < t.numaNodes().size(); ++i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "  %4d", t.numaNodes()[i].id);
    out += buf;
    for (int d : t.distances()[i]) {
      std::snprintf(buf, sizeof(buf), " %4d", d);
      out += buf;
    }
    out += "\n";
  }
  out += "Devices:" + std::string(t.devices().empty() ? " none" : "") + "\n";
  for (const PciDevice& dev : t.devices()) {
    char ids[16];
    std::snprintf(ids, sizeof(ids), "%04x:%04x", static_cast<unsigned>(dev.vendor_id),
                  static_cast<unsigned>(dev.device_id));
    out += "  " + dev.address + " " + std::string(deviceClassName(dev.klass)) + " [" + ids + "]" +
           (dev.name.empty() ? "" : " " + dev.name) +
           (dev.numa >= 0 ? ", NUMA node " + std::to_string(dev.numa) : ", NUMA node unknown") + "\n";
  }
  return out;
}

std::string formatZoneTable(const std::vector<Zone>& zones) {
  std::string out = "NodeResourceTopology zones:\n";
  for (const Zone& zone : zones) {
    out += "  " + zone.name + " (" + zone.type + "), costs:";
    for (const ZoneCost& cost : zone.costs) out += " " + cost.name + "=" + std::to_string(cost.value);
    out += "\n";
    char line[256];
    std::snprintf(line, sizeof(line), "    %-24s %12s %12s %12s\n", "RESOURCE", "CAPACITY", "ALLOCATABLE", "AVAILABLE");
    out += line;
    for (const ZoneResource& r : zone.resources) {
      std::snprintf(line, sizeof(line), "    %-24s %12s %12s %12s\n", r.name.c_str(),
                    zoneQuantity(r.name, r.capacity).c_str(), zoneQuantity(r.name, r.allocatable).c_str(),
                    zoneQuantity(r.name, r.available).c_str());
      out += line;
    }
  }
  return out;
}

}  // namespace topod::topology
