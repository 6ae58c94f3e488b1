#include "topology/device_nodes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "topology/loaders.h"

namespace topod::topology {
namespace {

namespace fs = std::filesystem;

// A fake root with the sysfs and procfs pieces the resolver reads, in a fresh temporary
// directory (mkdtemp: CTest runs the cases as parallel processes).
class FakeDeviceTree {
 public:
  FakeDeviceTree() {
    std::string pattern = std::string(::testing::TempDir()) + "devnodes-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    root_ = pattern;
  }
  ~FakeDeviceTree() { fs::remove_all(root_); }
  FakeDeviceTree(const FakeDeviceTree&) = delete;
  FakeDeviceTree& operator=(const FakeDeviceTree&) = delete;

  // sys/dev/<kind>/<major:minor> -> ../../devices/<device_path>, as the kernel links it.
  void link(const std::string& kind, const std::string& numbers, const std::string& device_path) {
    fs::create_directories(root_ / "sys/devices" / device_path);
    fs::create_directories(root_ / "sys/dev" / kind);
    fs::create_symlink(fs::path("../../devices") / device_path, root_ / "sys/dev" / kind / numbers);
  }
  void iommuGroupDevice(const std::string& group, const std::string& address) {
    fs::create_directories(root_ / "sys/kernel/iommu_groups" / group / "devices" / address);
  }
  void nvidiaGpu(const std::string& address, const std::string& information) {
    fs::create_directories(root_ / "proc/driver/nvidia/gpus" / address);
    std::ofstream(root_ / "proc/driver/nvidia/gpus" / address / "information") << information;
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

constexpr DeviceNodeType kChar = DeviceNodeType::Char;
using V = std::vector<std::string>;

TEST(DeviceNodes, DrmNodeResolvesToItsPciDeviceThenItsBridges) {
  FakeDeviceTree tree;
  tree.link("char", "226:128", "pci0000:00/0000:00:01.0/0000:17:00.0/drm/renderD128");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 226, 128), (V{"0000:17:00.0", "0000:00:01.0"}));
}

TEST(DeviceNodes, BlockAndCharNumbersAreSeparateNamespaces) {
  FakeDeviceTree tree;
  tree.link("block", "259:0", "pci0000:80/0000:80:03.0/0000:81:00.0/nvme/nvme0/nvme0n1");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(DeviceNodeType::Block, 259, 0), (V{"0000:81:00.0", "0000:80:03.0"}));
  EXPECT_EQ(resolver.pciAddresses(kChar, 259, 0), V{});
}

TEST(DeviceNodes, RdmaVerbsNode) {
  FakeDeviceTree tree;
  tree.link("char", "231:192", "pci0000:5d/0000:5d:00.0/0000:5e:00.0/infiniband_verbs/uverbs0");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 231, 192), (V{"0000:5e:00.0", "0000:5d:00.0"}));
}

TEST(DeviceNodes, VirtualDevicesHaveNoPciDevice) {
  FakeDeviceTree tree;
  tree.link("char", "1:3", "virtual/mem/null");
  tree.link("char", "10:229", "virtual/misc/fuse");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 1, 3), V{});
  EXPECT_EQ(resolver.pciAddresses(kChar, 10, 229), V{});
}

TEST(DeviceNodes, VfioGroupResolvesToTheDevicesOfItsIommuGroup) {
  FakeDeviceTree tree;
  tree.link("char", "511:42", "virtual/vfio/42");
  tree.iommuGroupDevice("42", "0000:3b:00.1");
  tree.iommuGroupDevice("42", "0000:3b:00.0");
  tree.iommuGroupDevice("42", "0000:3a:00.0");     // without ACS, the upstream bridge is in the group
  tree.link("char", "511:43", "virtual/vfio/43");  // a group the tree has no devices for
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 511, 42), (V{"0000:3a:00.0", "0000:3b:00.0", "0000:3b:00.1"}));
  EXPECT_EQ(resolver.pciAddresses(kChar, 511, 43), V{});
}

TEST(DeviceNodes, NvidiaGpusAreFoundByTheirDeviceMinor) {
  FakeDeviceTree tree;
  tree.nvidiaGpu("0000:17:00.0", "Model: \t\t NVIDIA H100\nIRQ:   \t\t 150\nDevice Minor: \t 0\nBus Type: \t PCIe\n");
  tree.nvidiaGpu("0000:65:00.0", "Model: \t\t NVIDIA H100\nDevice Minor: \t 1\n");
  tree.nvidiaGpu("0000:66:00.0", "Model: \t\t NVIDIA H100\nDevice Minor: \t 12\n");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 0), V{"0000:17:00.0"});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 1), V{"0000:65:00.0"});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 12), V{"0000:66:00.0"});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 2), V{});    // no such GPU
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 255), V{});  // nvidiactl
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 254), V{});  // nvidia-modeset
  EXPECT_EQ(resolver.pciAddresses(DeviceNodeType::Block, 195, 0), V{});
}

TEST(DeviceNodes, NvidiaLookupsFollowGpusThatAppearAndRenumber) {
  FakeDeviceTree tree;
  tree.nvidiaGpu("0000:17:00.0", "Device Minor: 0\n");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 0), V{"0000:17:00.0"});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 1), V{});
  tree.nvidiaGpu("0000:65:00.0", "Device Minor: 1\n");  // appears after the first lookups
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 1), V{"0000:65:00.0"});
  // A driver reload numbers them the other way round.
  tree.nvidiaGpu("0000:17:00.0", "Device Minor: 1\n");
  tree.nvidiaGpu("0000:65:00.0", "Device Minor: 0\n");
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 0), V{"0000:65:00.0"});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 1), V{"0000:17:00.0"});
}

TEST(DeviceNodes, SysfsLinkWinsOverTheNvidiaLookup) {
  // A driver that does register the node in sysfs under major 195 is taken at its word.
  FakeDeviceTree tree;
  tree.link("char", "195:0", "pci0000:00/0000:00:02.0/misc/x");
  tree.nvidiaGpu("0000:17:00.0", "Device Minor: 0\n");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 0), V{"0000:00:02.0"});
}

TEST(DeviceNodes, VmdDomainsHaveFiveDigits) {
  FakeDeviceTree tree;
  tree.link("block", "259:3", "pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:1d.0/10000:e1:00.0/nvme/nvme1/nvme1n1");
  SysfsDeviceNodeResolver resolver(tree.root());
  EXPECT_EQ(resolver.pciAddresses(DeviceNodeType::Block, 259, 3),
            (V{"10000:e1:00.0", "10000:e0:1d.0", "0000:00:0e.0"}));
}

TEST(DeviceNodes, MissingTreeResolvesNothing) {
  SysfsDeviceNodeResolver resolver("/nonexistent-topod-root");
  EXPECT_EQ(resolver.pciAddresses(kChar, 226, 0), V{});
  EXPECT_EQ(resolver.pciAddresses(kChar, 195, 0), V{});
}

TEST(DeviceNodes, ThisMachinesBlockDevicesResolveToWhereHwlocPutsThem) {
  // The real kernel's sysfs against hwloc's own view: a PCI device hwloc names after a block
  // device (vda, nvme0n1) must be the first candidate of that block device's numbers. Block
  // devices under devices/virtual (NVMe multipath heads, device mapper) have no PCI parent.
  auto topology = loadTopology("live");
  ASSERT_TRUE(topology.has_value()) << topology.error().toString();
  SysfsDeviceNodeResolver resolver("/");
  int checked = 0;
  for (const PciDevice& device : topology->devices()) {
    std::stringstream names(device.name);  // hwloc joins several OS names with ','
    std::string name;
    while (std::getline(names, name, ',')) {
      std::error_code error;
      const fs::path sysfs = fs::canonical("/sys/block/" + name, error);
      if (name.empty() || error || sysfs.string().find("/virtual/") != std::string::npos) continue;
      std::ifstream numbers(sysfs / "dev");
      int64_t major = 0;
      int64_t minor = 0;
      char colon = 0;
      if (!(numbers >> major >> colon >> minor) || colon != ':') continue;
      std::vector<std::string> candidates = resolver.pciAddresses(DeviceNodeType::Block, major, minor);
      ASSERT_FALSE(candidates.empty()) << name;
      EXPECT_EQ(candidates.front(), device.address) << name;
      ++checked;
    }
  }
  EXPECT_EQ(resolver.pciAddresses(kChar, 1, 3), V{}) << "/dev/null";
  if (checked == 0) GTEST_SKIP() << "hwloc names no block device on this machine";
}

TEST(DeviceNodes, PciAddressSpelling) {
  EXPECT_TRUE(isPciAddress("0000:17:00.0"));
  EXPECT_TRUE(isPciAddress("10de:ab:1f.7"));
  EXPECT_FALSE(isPciAddress("0000:17:00.8"));
  EXPECT_FALSE(isPciAddress("pci0000:00"));
  EXPECT_FALSE(isPciAddress("0000:17:00"));
  EXPECT_FALSE(isPciAddress("0000-17-00.0"));
  EXPECT_FALSE(isPciAddress("000g:17:00.0"));
  EXPECT_TRUE(isPciAddress("10000:e1:00.0"));
  EXPECT_FALSE(isPciAddress("000:17:00.0"));
  EXPECT_FALSE(isPciAddress("pci10000:e0"));
}

}  // namespace
}  // namespace topod::topology
