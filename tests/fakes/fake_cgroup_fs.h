// FakeCgroupFs: an in-memory cgroup tree for tests. Files exist once a test creates the cgroup
// (addCgroup) or sets them; writes to files of unknown cgroups fail with NotFound, as the kernel
// does. Records every write so tests can assert what was (not) touched. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "cgroups/cgroup_fs.h"

namespace topod::testing {

class FakeCgroupFs final : public cgroups::CgroupFs {
 public:
  explicit FakeCgroupFs(cgroups::CgroupVersion version = cgroups::CgroupVersion::V2) : version_(version) {}

  struct Write {
    std::string cgroup;
    std::string file;
    std::string content;
  };

  // Creates a cgroup whose cpuset files hold the given lists (as a runtime would set them).
  void addCgroup(const std::string& cgroup, const std::string& cpus = "", const std::string& mems = "") {
    std::lock_guard lock(mutex_);
    cgroups_[cgroup]["cpuset.cpus"] = cpus;
    cgroups_[cgroup]["cpuset.mems"] = mems;
  }
  void removeCgroup(const std::string& cgroup) {
    std::lock_guard lock(mutex_);
    cgroups_.erase(cgroup);
  }
  // Sets a file directly, creating the cgroup (for drift simulations).
  void set(const std::string& cgroup, const std::string& file, const std::string& content) {
    std::lock_guard lock(mutex_);
    cgroups_[cgroup][file] = content;
  }
  std::vector<Write> writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }

  cgroups::CgroupVersion version() const override { return version_; }

  Result<std::string> readFile(std::string_view, std::string_view cgroup, std::string_view file) const override {
    std::lock_guard lock(mutex_);
    auto group = cgroups_.find(std::string(cgroup));
    if (group == cgroups_.end()) return Error::notFound("no cgroup " + std::string(cgroup));
    auto it = group->second.find(std::string(file));
    if (it == group->second.end()) return Error::notFound("no file " + std::string(cgroup) + "/" + std::string(file));
    return it->second + "\n";
  }

  Status writeFile(std::string_view, std::string_view cgroup, std::string_view file,
                   std::string_view content) override {
    std::lock_guard lock(mutex_);
    auto group = cgroups_.find(std::string(cgroup));
    if (group == cgroups_.end()) return Error::notFound("no cgroup " + std::string(cgroup));
    group->second[std::string(file)] = std::string(content);
    writes_.push_back({std::string(cgroup), std::string(file), std::string(content)});
    return okStatus();
  }

 private:
  cgroups::CgroupVersion version_;
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, std::string>> cgroups_;
  std::vector<Write> writes_;
};

}  // namespace topod::testing
