#include "cgroups/cgroup_path.h"

#include <vector>

namespace topod::cgroups {

namespace {

constexpr std::string_view kSliceSuffix = ".slice";

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

Result<std::string> expandSlice(std::string_view slice, std::string_view input) {
  auto bad = [&](std::string_view why) {
    return Error::invalidArgument("cgroups path \"" + std::string(input) + "\": " + std::string(why));
  };
  if (slice == "-.slice") return std::string();
  if (!endsWith(slice, kSliceSuffix)) return bad("slice \"" + std::string(slice) + "\" does not end in .slice");
  std::string_view stem = slice.substr(0, slice.size() - kSliceSuffix.size());
  if (stem.empty() || stem.find('/') != std::string_view::npos) return bad("invalid slice name");
  std::string path;
  std::size_t pos = 0;
  for (;;) {
    std::size_t dash = stem.find('-', pos);
    if (dash == 0 || dash + 1 == stem.size() || (dash != std::string_view::npos && stem[dash + 1] == '-')) {
      return bad("slice \"" + std::string(slice) + "\" has an empty component");
    }
    std::string_view prefix = stem.substr(0, dash);
    path += "/" + std::string(prefix) + std::string(kSliceSuffix);
    if (dash == std::string_view::npos) break;
    pos = dash + 1;
  }
  return path;
}

}  // namespace

Result<std::string> cgroupPathOf(std::string_view cgroups_path) {
  auto bad = [&](std::string_view why) {
    return Error::invalidArgument("cgroups path \"" + std::string(cgroups_path) + "\": " + std::string(why));
  };
  if (cgroups_path.empty()) return bad("is empty");
  std::string path;
  std::size_t colon = cgroups_path.find(':');
  if (colon != std::string_view::npos) {
    std::size_t second = cgroups_path.find(':', colon + 1);
    if (second == std::string_view::npos || cgroups_path.find(':', second + 1) != std::string_view::npos) {
      return bad("a systemd cgroups path has the form slice:prefix:name");
    }
    std::string_view slice = cgroups_path.substr(0, colon);
    std::string_view prefix = cgroups_path.substr(colon + 1, second - colon - 1);
    std::string_view name = cgroups_path.substr(second + 1);
    if (name.empty() || name.find('/') != std::string_view::npos || prefix.find('/') != std::string_view::npos) {
      return bad("invalid unit name");
    }
    auto parent = expandSlice(slice.empty() ? std::string_view("system.slice") : slice, cgroups_path);
    if (!parent.has_value()) return parent.error();
    std::string unit =
        endsWith(name, kSliceSuffix)
            ? std::string(name)
            : (prefix.empty() ? std::string(name) : std::string(prefix) + "-" + std::string(name)) + ".scope";
    path = *parent + "/" + unit;
  } else {
    path = cgroups_path[0] == '/' ? std::string(cgroups_path) : "/" + std::string(cgroups_path);
  }
  // Normalise: collapse "//" and "/./", refuse ".." so a path can never leave the hierarchy.
  std::string normal;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part = std::string_view(path).substr(start, end - start);
    if (part == "..") return bad("\"..\" is not allowed");
    if (!part.empty() && part != ".") normal += "/" + std::string(part);
    start = end + 1;
  }
  return normal.empty() ? std::string("/") : normal;
}

Result<std::string> podCgroupPathOf(std::string_view cgroup_parent) {
  // A systemd slice name has no '/' (its parents are implied by its dashes).
  Result<std::string> path = cgroup_parent.find('/') == std::string_view::npos && endsWith(cgroup_parent, kSliceSuffix)
                                 ? expandSlice(cgroup_parent, cgroup_parent)
                                 : cgroupPathOf(cgroup_parent);
  // The root is every pod's ancestor, never one pod's cgroup: nothing of it may be changed for one.
  if (path.has_value() && (path->empty() || *path == "/")) {
    return Error::invalidArgument("cgroup parent \"" + std::string(cgroup_parent) + "\" is the root, not a pod cgroup");
  }
  return path;
}

}  // namespace topod::cgroups
