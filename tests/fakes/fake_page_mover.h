// FakePageMover: records the migrate_pages(2) calls page migration would make and answers them
// from a table (default: every page moved); optionally each call costs time on a FakeClock.
#pragma once

#include <map>
#include <vector>

#include "cgroups/page_migration.h"
#include "tests/fakes/fake_clock.h"

namespace topod::testing {

class FakePageMover final : public cgroups::PageMover {
 public:
  struct Move {
    pid_t pid;
    NodeSet from;
    NodeSet to;
  };

  std::map<pid_t, Result<uint64_t>> answers;
  std::vector<Move> moves;
  FakeClock* fake_clock = nullptr;  // when set, each call advances it by `cost`
  Clock::Duration cost{};

  Result<uint64_t> movePages(pid_t pid, const NodeSet& from, const NodeSet& to) override {
    moves.push_back({pid, from, to});
    if (fake_clock != nullptr) fake_clock->advance(cost);
    auto it = answers.find(pid);
    return it == answers.end() ? Result<uint64_t>(uint64_t{0}) : it->second;
  }
};

}  // namespace topod::testing
