// The State as a versioned, checksummed JSON document (issue 4 item 7; STYLE.md practice 10).
// The agent checkpoints it; `topod simulate --state` reads it as an initial state. The format
// is documented with examples in docs/simulator.md ("State format"). Version 1:
//
//   {
//     "version": 1,
//     "checksum": "fnv1a64:<16 lowercase hex digits>",
//     "containers": [
//       { "pod_uid": "...", "container": "...", "qos": "Guaranteed",
//         "exclusive_cpus": "2-3", "shared_pool_nodes": "", "memory_nodes": "0",
//         "memory": { "0": { "memory": 1073741824 } },
//         "memory_beside": { ... },   (optional: regular init containers beside sidecars)
//         "request": { "name": "...", "kind": "app", "cpu_request_millis": 2000, ... } }
//     ]
//   }
//
// Checksum: 64-bit FNV-1a over the canonical body, i.e. the document without its "checksum"
// key, dumped by nlohmann::json as compact JSON with keys sorted (its default object order) and
// invalid UTF-8 replaced. The parser re-dumps what it read the same way, so whitespace and key
// order in the file do not matter, but any change of a value does.
//
// Parsing is strict: unknown keys, duplicate keys, wrong types, negative or fractional numbers,
// malformed CPU/node lists, two entries for one container and unknown versions are errors that
// name the source and the field. Only pod_uid and container are required in an entry; every
// other field defaults to empty/zero, and qos defaults to what the request computes to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policies/state.h"

namespace topod::policies {

inline constexpr int kStateFormatVersion = 1;

enum class StateChecksum {
  Required,  // checkpoints written by topod: a missing checksum is an error
  // Hand-written states (the simulator's --state): the checksum may be left out; when present
  // it must still match.
  Optional,
};

// Pretty-printed (2-space indent) document with the checksum, ending in a newline.
std::string serializeState(const State& state);

// `source` names the input in errors (a path, or "<string>").
Result<State> parseState(std::string_view text, std::string_view source,
                         StateChecksum checksum = StateChecksum::Required);

// One change of a State: a container's allocation recorded (or replaced), or removed. The agent's
// journal (state/state_journal.h) persists the changes between two full documents as these
// records; replaying them in order onto the document they follow yields the State again.
// Because each record carries a whole value rather than a delta, replaying records the document
// already contains changes nothing (replay is idempotent), which is what lets the journal be
// compacted without a lock-step between the document and the records.
struct StateChange {
  uint64_t seq = 0;  // position in the journal; consecutive records have consecutive numbers
  ContainerKey key;
  std::optional<ContainerAllocation> allocation;  // nullopt: the container was removed
  friend bool operator==(const StateChange&, const StateChange&) = default;
};

// One line of compact JSON, no newline: {"put":{<entry as in a document>},"seq":N} or
// {"erase":{"container":"...","pod_uid":"..."},"seq":N}.
std::string serializeStateChange(const StateChange& change);
// Strict like parseState: unknown keys, both or neither of put/erase, a bad entry are errors.
Result<StateChange> parseStateChange(std::string_view text, std::string_view source);
// What can still be read of a change record that parseStateChange refuses: its seq and the
// container it names, each when present with the right type (nothing is validated beyond that).
struct StateChangeIdentity {
  std::optional<uint64_t> seq;
  std::optional<ContainerKey> key;
};
StateChangeIdentity salvageStateChangeIdentity(std::string_view text);
// Applies the change to `state` in place.
void applyStateChange(State& state, const StateChange& change);

// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view bytes);

}  // namespace topod::policies
