// The simulator's input: a trace of pod events, one JSON object per line (JSON Lines). The
// format is documented with examples in docs/simulator.md ("Trace format"):
//
//   {"op":"add","pod":{"uid":"p1","namespace":"default","name":"db"},
//    "containers":[{"name":"main","requests":{"cpu":"4","memory":"8Gi"},"limits":{"cpu":"4","memory":"8Gi"}}]}
//   {"op":"resize","pod":"p1","container":"main","requests":{"cpu":"6"},"limits":{"cpu":"6"}}
//   {"op":"remove","pod":"p1"}
//
// Resources follow Kubernetes: "requests" and "limits" maps of "cpu", "memory" and
// "hugepages-<size>" to quantities ("500m", "2", "1.5", "8Gi", "1G", or plain numbers; read
// exactly by common/quantity.h), a missing request defaults to its limit, and the pod's QoS class
// is computed as Kubernetes does unless "qos" says otherwise. Blank lines and lines starting with '#' are skipped.
//
// Parsing is strict and total: every malformed line is an InvalidArgument error naming the
// source and the line number, never a crash (fuzzed by tests/fuzz/simulator_trace_fuzz.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policies/request.h"

namespace topod::policies {

enum class TraceOp { Add, Resize, Remove };
std::string_view traceOpName(TraceOp op);

struct TraceEvent {
  int line = 0;  // 1-based line in the trace
  TraceOp op = TraceOp::Add;
  // Add: the whole pod, containers in spec order. Resize/Remove: only pod.uid is set.
  PodRequest pod;
  // Resize: the container; Remove: the container, or empty for the whole pod.
  std::string container;
  // Resize: the resources given, applied over the container's current request.
  bool has_cpu_request = false;
  bool has_cpu_limit = false;
  bool has_memory_request = false;
  bool has_memory_limit = false;
  ContainerRequest resources;
};

Result<std::vector<TraceEvent>> parseTrace(std::string_view text, std::string_view source);

}  // namespace topod::policies
