#include "cgroups/page_migration.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "cgroups/container_files.h"

namespace topod::cgroups {
namespace {

constexpr std::size_t kMaxReportedErrors = 3;
// Bits in the masks handed to migrate_pages(2): NodeSet's whole range.
constexpr unsigned long kMaskBits = static_cast<unsigned long>(NodeSet::kMaxId) + 1;

std::vector<unsigned long> toMask(const NodeSet& nodes) {
  constexpr unsigned bits = sizeof(unsigned long) * 8;
  std::vector<unsigned long> mask((kMaskBits + bits - 1) / bits, 0);
  for (int node : nodes) {
    mask[static_cast<std::size_t>(node) / bits] |= 1UL << (static_cast<unsigned>(node) % bits);
  }
  return mask;
}

}  // namespace

Result<uint64_t> KernelPageMover::movePages(pid_t pid, const NodeSet& from, const NodeSet& to) {
  auto old_nodes = toMask(from);
  auto new_nodes = toMask(to);
  // The kernel reads maxnode - 1 bits (get_nodes() decrements it first), as libnuma knows.
  long left = ::syscall(SYS_migrate_pages, pid, kMaskBits + 1, old_nodes.data(), new_nodes.data());
  if (left < 0) {
    int err = errno;
    std::string what =
        "migrate_pages(" + std::to_string(pid) + ", from " + from.toString() + ", to " + to.toString() + ")";
    if (err == ESRCH) return Error::notFound(what + ": no such process");
    return Error::fromErrno(err, what);
  }
  return static_cast<uint64_t>(left);
}

std::string MigrationOutcome::summary(const NodeSet& to) const {
  std::string text = "moved the pages of " + std::to_string(moved) + "/" + std::to_string(processes) +
                     " processes to node(s) " + to.toString();
  text += " (" + std::to_string(pages_not_moved) + " pages not moved";
  if (vanished > 0) text += ", " + std::to_string(vanished) + " exited meanwhile";
  if (deadline_hit) text += ", deadline reached before the rest";
  text += ")";
  for (const auto& error : errors) text += "; " + error;
  return text;
}

Result<MigrationOutcome> migratePages(const CgroupFs& fs, PageMover& mover, const Clock& clock, std::string_view cgroup,
                                      const NodeSet& to, Clock::TimePoint deadline) {
  if (to.empty()) return Error::invalidArgument("page migration to an empty set of NUMA nodes");
  auto pids = readCgroupProcs(fs, cgroup);
  if (!pids.has_value()) return pids.error();

  const NodeSet from = NodeSet::range(0, NodeSet::kMaxId) - to;
  MigrationOutcome outcome;
  outcome.processes = static_cast<int>(pids->size());
  for (pid_t pid : *pids) {
    if (clock.now() >= deadline) {
      outcome.deadline_hit = true;
      break;
    }
    auto left = mover.movePages(pid, from, to);
    if (left.has_value()) {
      ++outcome.moved;
      outcome.pages_not_moved += *left;
    } else if (left.error().code() == ErrorCode::NotFound) {
      ++outcome.vanished;
    } else if (outcome.errors.size() < kMaxReportedErrors) {
      outcome.errors.push_back(left.error().toString());
    }
  }
  return outcome;
}

}  // namespace topod::cgroups
