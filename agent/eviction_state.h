// The eviction warnings in flight, on disk: <state_dir>/evictions.json, so a restarted topod
// goes on heartbeating and never warns a pod twice (docs/state.md, docs/eviction.md). A file
// of its own beside the allocation checkpoint, whose formats it leaves untouched:
//   {"version":1,"checksum":"fnv1a64:<16 hex>","warnings":[{"pod_uid":"...","pod_namespace":"...",
//    "pod_name":"...","eviction_namespace":"...","eviction_name":"...","mode":"signal",
//    "phase":"warning","warned_at":"<RFC 3339>","deadline":"<RFC 3339>","changed_at":...,
//    "last_heartbeat":...,"last_message":"...","completion_reported":false,"outcome":"...",
//    "progress":{"state":"running","percent":40,"message":"..."}}]}
// The checksum is FNV-1a 64 over the compact document without "checksum" (as state.json's).
// Written atomically (temp file, fsync, rename, fsync of the directory). A file that does not
// parse or check is moved aside by the caller and the warnings start empty: the worst case is
// a workload warned a second time, never a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/eviction_responder.h"
#include "common/result.h"

namespace topod::agent {

inline constexpr const char* kEvictionStateFile = "evictions.json";

std::string serializeWarnings(const std::vector<Warning>& warnings);
// InvalidArgument (DataLoss for a checksum mismatch) naming the problem.
Result<std::vector<Warning>> parseWarnings(std::string_view text);

// `topod evictions`' table: one line per warning with its phase, progress, deadline (and the
// time left at `now`), last heartbeat and outcome. Names are escaped: a newline in a message the
// workload wrote cannot break the table.
std::string formatWarningsTable(const std::vector<Warning>& warnings, WallTime now);

}  // namespace topod::agent
