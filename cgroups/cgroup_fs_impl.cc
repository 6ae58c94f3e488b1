#include "cgroups/cgroup_fs_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "common/file_io.h"

namespace topod::cgroups {

namespace {

constexpr const char* kDefaultRoot = "/sys/fs/cgroup";

}  // namespace

Result<std::string> CgroupFsImpl::filePath(std::string_view controller, std::string_view cgroup,
                                           std::string_view file) const {
  std::string base;
  if (mounts_.version() == CgroupVersion::V2) {
    base = mounts_.unified;
  } else {
    auto it = mounts_.v1.find(std::string(controller));
    if (it == mounts_.v1.end()) {
      return Error::notFound("no cgroup v1 hierarchy for controller \"" + std::string(controller) + "\"");
    }
    base = it->second;
  }
  if (base.empty()) return Error::notFound("no cgroup2 hierarchy is mounted");
  if (cgroup.empty() || cgroup[0] != '/') {
    return Error::invalidArgument("cgroup path \"" + std::string(cgroup) + "\" is not absolute");
  }
  std::string path = base;
  if (cgroup != "/") path += std::string(cgroup);
  return path + "/" + std::string(file);
}

Result<std::string> CgroupFsImpl::readFile(std::string_view controller, std::string_view cgroup,
                                           std::string_view file) const {
  auto path = filePath(controller, cgroup, file);
  if (!path.has_value()) return path.error();
  // cgroupfs files are regular files; a cgroup root given as a symbolic link is followed.
  return readRegularFile(*path, {.no_follow = false});
}

Status CgroupFsImpl::writeFile(std::string_view controller, std::string_view cgroup, std::string_view file,
                               std::string_view content) {
  auto path = filePath(controller, cgroup, file);
  if (!path.has_value()) return path.error();
  // No O_CREAT: a missing file means a missing cgroup, which must not be invented. O_TRUNC is
  // ignored by cgroupfs and keeps directory trees that mimic it exact.
  UniqueFd fd(::open(path->c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return Error(ErrorCode::NotFound, *path + " does not exist", err);
    return Error::fromErrno(err, "opening " + *path + " for writing");
  }
  // cgroupfs takes a value in one write(); a short write is an error, not something to resume.
  ssize_t n = ::write(fd.get(), content.data(), content.size());
  int err = errno;
  fd.reset();
  if (n < 0) return Error::fromErrno(err, "writing \"" + std::string(content) + "\" to " + *path);
  if (static_cast<std::size_t>(n) != content.size()) {
    return Error::internal("short write of \"" + std::string(content) + "\" to " + *path);
  }
  return okStatus();
}

Result<std::unique_ptr<CgroupFsImpl>> openCgroupFs(const std::string& root, const std::string& mountinfo_path) {
  namespace fs = std::filesystem;
  if (root == kDefaultRoot) {
    auto text = readRegularFile(mountinfo_path, {.no_follow = false});
    if (!text.has_value()) return text.error().withContext("reading mountinfo");
    auto mounts = parseMountInfo(*text);
    if (!mounts.has_value()) return mounts.error().withContext(mountinfo_path);
    return std::make_unique<CgroupFsImpl>(std::move(*mounts));
  }
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return Error::notFound("cgroup root " + root + " is not a directory");
  CgroupMounts mounts;
  if (fs::exists(fs::path(root) / "cgroup.controllers", ec)) {
    mounts.unified = root;
    return std::make_unique<CgroupFsImpl>(std::move(mounts));
  }
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec)) continue;
    std::string name = entry.path().filename().string();
    std::size_t start = 0;
    while (start <= name.size()) {
      std::size_t comma = name.find(',', start);
      if (comma == std::string::npos) comma = name.size();
      std::string controller = name.substr(start, comma - start);
      if (!controller.empty()) mounts.v1.emplace(controller, entry.path().string());
      start = comma + 1;
    }
  }
  if (ec) return Error::fromErrno(ec.value(), "listing cgroup root " + root);
  if (mounts.v1.count("cpuset") == 0) {
    return Error::notFound("cgroup root " + root + " has neither cgroup.controllers (v2) nor a cpuset/ hierarchy (v1)");
  }
  return std::make_unique<CgroupFsImpl>(std::move(mounts));
}

}  // namespace topod::cgroups
