// Root-only, on a machine with two or more NUMA nodes with memory (the test VM, docs/vm.md):
// a process touches 64 MiB while its cgroup's cpuset.mems is the first node; the cgroup is moved
// to the second node, which on cgroup v1 (memory_migrate off, as runc leaves it) moves nothing and
// on v2 moves the pages already (the kernel sets CS_MEMORY_MIGRATE on every v2 cpuset);
// migratePages() then leaves every page on the second node. Every number is read from the kernel
// (/proc/PID/numa_maps; memory.numa_stat on cgroup v2) and printed.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "cgroups/cgroup_fs_impl.h"
#include "cgroups/container_files.h"
#include "cgroups/page_migration.h"
#include "common/file_io.h"

namespace topod::cgroups {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kTouched = 64u << 20;

// Pages per NUMA node over all mappings of a process ("N1=123" fields of numa_maps).
std::map<int, long> pagesPerNode(pid_t pid) {
  std::map<int, long> pages;
  std::ifstream in("/proc/" + std::to_string(pid) + "/numa_maps");
  std::string word;
  while (in >> word) {
    if (word.size() > 2 && word[0] == 'N' && std::isdigit(static_cast<unsigned char>(word[1]))) {
      auto eq = word.find('=');
      if (eq != std::string::npos) pages[std::stoi(word.substr(1, eq - 1))] += std::stol(word.substr(eq + 1));
    }
  }
  return pages;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string describe(const std::map<int, long>& pages) {
  std::ostringstream out;
  for (auto [node, count] : pages) out << " N" << node << "=" << count;
  return out.str();
}

class ChildProcess {
 public:
  ChildProcess() {
    EXPECT_EQ(::pipe(go_), 0);
    EXPECT_EQ(::pipe(ready_), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      char c;
      if (::read(go_[0], &c, 1) != 1) ::_exit(2);
      void* memory = ::mmap(nullptr, kTouched, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory == MAP_FAILED) ::_exit(3);
      std::memset(memory, 0x5a, kTouched);
      if (::write(ready_[1], "r", 1) != 1) ::_exit(4);
      (void)::read(go_[0], &c, 1);  // until the parent closes the pipe
      ::_exit(0);
    }
  }
  ~ChildProcess() {
    ::close(go_[1]);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool touch() {
    char c = 'g';
    return ::write(go_[1], &c, 1) == 1 && ::read(ready_[0], &c, 1) == 1;
  }

 private:
  int go_[2] = {-1, -1};
  int ready_[2] = {-1, -1};
  pid_t pid_ = -1;
};

TEST(RealPageMigrationTest, PagesFollowTheCgroupToAnotherNode) {
  auto has_memory = readRegularFile("/sys/devices/system/node/has_memory");
  ASSERT_TRUE(has_memory.has_value()) << has_memory.error().toString();
  std::string list = *has_memory;
  auto nodes = NodeSet::parse(trimmed(list));
  ASSERT_TRUE(nodes.has_value()) << nodes.error().toString();
  if (nodes->size() < 2) GTEST_SKIP() << "needs 2 NUMA nodes with memory; this machine has " << list;
  const int from = nodes->first();
  const int to = nodes->toVector()[1];

  auto opened = openCgroupFs("/sys/fs/cgroup");
  ASSERT_TRUE(opened.has_value()) << opened.error().toString();
  CgroupFsImpl& cgfs = **opened;
  const bool v2 = cgfs.version() == CgroupVersion::V2;
  if (v2) {
    // systemd enables only the controllers its units use; a cgroup of our own needs cpuset.
    ASSERT_TRUE(cgfs.writeFile("cpuset", "/", "cgroup.subtree_control", "+cpuset +memory").has_value());
  }
  const std::string cg = "/topod-pages-" + std::to_string(::getpid());
  auto dir = fs::path(cgfs.filePath("cpuset", cg, "x").value()).parent_path();
  ASSERT_TRUE(fs::create_directory(dir)) << dir;
  // The root cgroup of v2 has only cpuset.cpus.effective.
  auto root_cpus = cgfs.readFile("cpuset", "/", v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
  ASSERT_TRUE(root_cpus.has_value()) << root_cpus.error().toString();
  auto cpus = CpuSet::parse(trimmed(*root_cpus));
  ASSERT_TRUE(cpus.has_value()) << cpus.error().toString();
  ASSERT_TRUE(writeCpus(cgfs, cg, *cpus).has_value());
  ASSERT_TRUE(writeMems(cgfs, cg, NodeSet{from}).has_value());

  {
    ChildProcess child;
    ASSERT_GT(child.pid(), 0);
    ASSERT_TRUE(cgfs.writeFile("cpuset", cg, "cgroup.procs", std::to_string(child.pid())).has_value());
    ASSERT_TRUE(child.touch());
    const long touched_pages = static_cast<long>(kTouched / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));

    auto before = pagesPerNode(child.pid());
    std::cout << "pages with cpuset.mems=" << from << ":" << describe(before) << "\n";
    EXPECT_GE(before[from], touched_pages * 9 / 10);

    ASSERT_TRUE(writeMems(cgfs, cg, NodeSet{to}).has_value());
    auto moved_cgroup_only = pagesPerNode(child.pid());
    std::cout << "pages after cpuset.mems=" << to << ", before migratePages():" << describe(moved_cgroup_only) << "\n";
    if (v2) {
      // The kernel migrates on its own here: a v2 cpuset is created with CS_MEMORY_MIGRATE set
      // (there is no file to turn it off). Measured, not assumed: the numbers are printed.
      auto stat = cgfs.readFile("memory", cg, "memory.numa_stat");
      if (stat.has_value())
        std::cout << "memory.numa_stat before migratePages(): " << stat->substr(0, stat->find('\n')) << "\n";
    } else {
      // v1: cpuset.memory_migrate is off unless someone turned it on (runc does not): the pages stay.
      auto migrate = cgfs.readFile("cpuset", cg, "cpuset.memory_migrate");
      ASSERT_TRUE(migrate.has_value()) << migrate.error().toString();
      if (trimmed(*migrate) == "0") {
        EXPECT_GE(moved_cgroup_only[from], touched_pages * 9 / 10);
      }
    }

    KernelPageMover mover;
    auto outcome = migratePages(cgfs, mover, steadyClock(), cg, NodeSet{to}, steadyClock().now() + 30s);
    ASSERT_TRUE(outcome.has_value()) << outcome.error().toString();
    std::cout << outcome->summary(NodeSet{to}) << "\n";
    EXPECT_EQ(outcome->moved, 1);
    EXPECT_TRUE(outcome->errors.empty());

    auto after = pagesPerNode(child.pid());
    std::cout << "pages after migratePages():" << describe(after) << "\n";
    EXPECT_GE(after[to], touched_pages * 9 / 10);
    EXPECT_LT(after[from], touched_pages / 10);
    if (v2) {
      auto stat = cgfs.readFile("memory", cg, "memory.numa_stat");
      if (stat.has_value())
        std::cout << "memory.numa_stat after migration: " << stat->substr(0, stat->find('\n')) << "\n";
    }
  }
  // The child is reaped: the cgroup is empty and can go.
  EXPECT_TRUE(fs::remove(dir)) << dir;
}

}  // namespace
}  // namespace topod::cgroups
