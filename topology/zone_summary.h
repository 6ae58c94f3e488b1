// The NodeResourceTopology view of a Topology: one zone per NUMA node ("node-N", type "Node")
// with its distances as costs and per-resource capacity / allocatable / available, the way the
// scheduler-plugins NodeResourceTopologyMatch plugin reads them (docs/kubernetes.md). A pure function
// of the model plus optional reservations and usage; nothing here talks to the API server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "common/resource_names.h"
#include "topology/device_resources.h"
#include "topology/model.h"

namespace topod::topology {

inline constexpr const char* kZoneTypeNode = "Node";

// Amounts per NUMA node id, then per resource name, in the resource's unit: "cpu" in CPUs,
// "memory" and "hugepages-<size>" in bytes, device resources in devices.
using ZoneAmounts = std::map<int, std::map<std::string, int64_t>>;

struct ZoneSummaryOptions {
  // CPUs kept from pods (the kubelet's reservedSystemCPUs): not allocatable on their node.
  CpuSet reserved_cpus;
  // Other reservations per node (system/kube reserved memory, huge pages).
  ZoneAmounts reserved;
  // What running pods hold: available = allocatable - used.
  ZoneAmounts used;
  // The resource name each device is published under (the device plugins' names for the
  // vendors it knows, topod's class names otherwise); unnamed devices are not reported.
  DeviceResourceNames device_resources;
};

struct ZoneResource {
  std::string name;
  int64_t capacity = 0;
  int64_t allocatable = 0;  // capacity - reserved, never below 0
  int64_t available = 0;    // allocatable - used, never below 0
  friend bool operator==(const ZoneResource&, const ZoneResource&) = default;
};

struct ZoneCost {
  std::string name;  // "node-M"
  int64_t value = 0;
  friend bool operator==(const ZoneCost&, const ZoneCost&) = default;
};

struct Zone {
  std::string name;  // "node-N"
  std::string type = kZoneTypeNode;
  std::vector<ZoneCost> costs;  // to every zone, itself included, ascending by node id
  // "cpu" (nodes with CPUs), "memory", "hugepages-<size>" ascending by size, then devices by name.
  std::vector<ZoneResource> resources;
  friend bool operator==(const Zone&, const Zone&) = default;
};

// Zones ascending by NUMA node id.
std::vector<Zone> summarizeZones(const Topology& topology, const ZoneSummaryOptions& options = {});

// "hugepages-2Mi", "hugepages-1Gi": Kubernetes' names for huge page resources.
using ::topod::hugepageResourceName;
// A Kubernetes quantity string for an amount of `resource`: CPUs and devices as plain integers,
// bytes with the largest exact binary suffix ("64Gi", "1536Mi", "100").
std::string zoneQuantity(const std::string& resource, int64_t amount);

}  // namespace topod::topology
