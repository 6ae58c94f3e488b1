#include "cgroups/mountinfo.h"

#include <vector>

namespace topod::cgroups {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
Result<std::string> unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    int value = 0;
    for (std::size_t k = 1; k <= 3; ++k) {
      if (i + k >= field.size() || field[i + k] < '0' || field[i + k] > '7') {
        return Error::invalidArgument("bad escape in \"" + std::string(field) + "\"");
      }
      value = value * 8 + (field[i + k] - '0');
    }
    if (value > 255) return Error::invalidArgument("bad escape in \"" + std::string(field) + "\"");
    out += static_cast<char>(value);
    i += 3;
  }
  return out;
}

}  // namespace

CgroupVersion CgroupMounts::version() const {
  return v1.count("cpuset") != 0 || v1.count("cpu") != 0 ? CgroupVersion::V1 : CgroupVersion::V2;
}

Result<CgroupMounts> parseMountInfo(std::string_view text) {
  CgroupMounts mounts;
  bool any = false;
  int line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](std::string_view why) {
      return Error::invalidArgument("mountinfo line " + std::to_string(line_no) + ": " + std::string(why));
    };
    std::vector<std::string_view> fields = split(line, ' ');
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    std::size_t dash = 0;
    for (std::size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || dash + 3 >= fields.size()) {
      return bad("expected at least 10 fields with a \"-\" separator");
    }
    std::string_view fstype = fields[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    auto mount_point = unescape(fields[4]);
    if (!mount_point.has_value()) return bad(mount_point.error().message());
    if (mount_point->empty() || (*mount_point)[0] != '/') return bad("mount point is not absolute");
    any = true;
    if (fstype == "cgroup2") {
      if (mounts.unified.empty()) mounts.unified = *mount_point;
      continue;
    }
    for (std::string_view option : split(fields[dash + 3], ',')) {
      if (option.empty() || option == "rw" || option == "ro" || option.find('=') != std::string_view::npos) {
        continue;
      }
      mounts.v1.emplace(std::string(option), *mount_point);
    }
  }
  if (!any) return Error::notFound("mountinfo lists no cgroup or cgroup2 mount");
  return mounts;
}

}  // namespace topod::cgroups
