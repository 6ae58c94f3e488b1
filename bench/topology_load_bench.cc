// Load time and memory of the topology model for a 2-socket, 256-PU machine, from hwloc XML
// (tests/fixtures/topology/amd-epyc-2s-2x64c-smt2.xml), from the equivalent hwloc synthetic
// string, and from topod's JSON snapshot. Counters per load:
//   peak_KiB      most heap in use during the load, above what was in use before it
//                 (hwloc's C allocations included: this binary counts every malloc)
//   retained_KiB  heap the finished Topology keeps
// Run: build/bench/topology_load_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "topology/json_snapshot.h"
#include "topology/loaders.h"

// ---- Heap accounting: every malloc of the process, C and C++, goes through these. -------------

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* ptr);
}

namespace {

std::atomic<std::size_t> g_in_use{0};
std::atomic<std::size_t> g_peak{0};

void* counted(void* ptr) {
  if (ptr != nullptr) {
    std::size_t now = g_in_use.fetch_add(malloc_usable_size(ptr)) + malloc_usable_size(ptr);
    std::size_t peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
  return ptr;
}

void uncount(void* ptr) {
  if (ptr != nullptr) g_in_use.fetch_sub(malloc_usable_size(ptr));
}

}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  return counted(__libc_malloc(size));
}
void* calloc(std::size_t count, std::size_t size) {
  return counted(__libc_calloc(count, size));
}
void free(void* ptr) {
  uncount(ptr);
  __libc_free(ptr);
}
void* realloc(void* ptr, std::size_t size) {
  const std::size_t old = ptr != nullptr ? malloc_usable_size(ptr) : 0;
  void* moved = __libc_realloc(ptr, size);
  if (moved == nullptr && size != 0) return nullptr;  // the old block is untouched
  g_in_use.fetch_sub(old);
  return counted(moved);
}
void* memalign(std::size_t alignment, std::size_t size) {
  return counted(__libc_memalign(alignment, size));
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  return counted(__libc_memalign(alignment, size));
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  void* ptr = __libc_memalign(alignment, size);
  if (ptr == nullptr) return ENOMEM;
  *out = counted(ptr);
  return 0;
}
}

namespace {

using topod::Result;
using topod::topology::Topology;

// Same machine as the XML fixture: 2 packages x 8 L3 x 8 cores x 2 threads (hwloc numbers the
// synthetic PUs with siblings adjacent, the fixture kernel-style; the counts are equal).
constexpr const char* kSynthetic = "synthetic:pack:2 numa:1 l3:8 core:8 pu:2";
const std::string kXml = std::string(TOPOD_FIXTURES_DIR) + "/topology/amd-epyc-2s-2x64c-smt2.xml";

template <typename Load>
void measure(benchmark::State& state, Load load) {
  std::size_t peak = 0;
  std::size_t retained = 0;
  for (auto _ : state) {
    const std::size_t before = g_in_use.load();
    g_peak.store(before);
    Result<Topology> topology = load();
    if (!topology.has_value()) {
      state.SkipWithError(topology.error().toString().c_str());
      return;
    }
    peak = g_peak.load() - before;
    retained = g_in_use.load() - before;
    if (topology->cpus().size() != 256) state.SkipWithError("expected 256 CPUs");
    benchmark::DoNotOptimize(topology);
  }
  state.counters["peak_KiB"] = static_cast<double>(peak) / 1024.0;
  state.counters["retained_KiB"] = static_cast<double>(retained) / 1024.0;
}

void loadFromXml(benchmark::State& state) {
  measure(state, [] { return topod::topology::loadTopology("xml:" + kXml); });
}
BENCHMARK(loadFromXml)->Unit(benchmark::kMillisecond);

void loadFromSynthetic(benchmark::State& state) {
  measure(state, [] { return topod::topology::loadTopology(kSynthetic); });
}
BENCHMARK(loadFromSynthetic)->Unit(benchmark::kMillisecond);

void loadFromJsonSnapshot(benchmark::State& state) {
  auto topology = topod::topology::loadTopology("xml:" + kXml);
  if (!topology.has_value()) {
    state.SkipWithError(topology.error().toString().c_str());
    return;
  }
  const std::string text = topod::topology::toTopologyJson(*topology);
  measure(state, [&] { return topod::topology::parseTopologyJson(text); });
}
BENCHMARK(loadFromJsonSnapshot)->Unit(benchmark::kMillisecond);

void writeJsonSnapshot(benchmark::State& state) {
  auto topology = topod::topology::loadTopology("xml:" + kXml);
  if (!topology.has_value()) {
    state.SkipWithError(topology.error().toString().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(topod::topology::toTopologyJson(*topology));
}
BENCHMARK(writeJsonSnapshot)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
