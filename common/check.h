// Three levels of reacting to the impossible (STYLE.md practice 8):
//   TOPOD_DCHECK(cond)  debug builds only, for invariants too costly to check in production;
//   TOPOD_CHECK(cond)   always on, terminates: internal inconsistency beats silent damage;
//   log-and-count bugs live in the agent, which owns logging and metrics.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace topod::detail {
[[noreturn]] inline void checkFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "topod: fatal: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace topod::detail

#define TOPOD_CHECK(cond) ((cond) ? static_cast<void>(0) : ::topod::detail::checkFailed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define TOPOD_DCHECK(cond) static_cast<void>(0)
#else
#define TOPOD_DCHECK(cond) TOPOD_CHECK(cond)
#endif
