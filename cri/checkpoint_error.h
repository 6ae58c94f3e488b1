// What a CRI runtime's failed answer means for a checkpoint: the gRPC status (code and message,
// as containerd and runc word them) turned into an Error with a stable reason that callers
// match, and a message that says what to do. Pure: no gRPC types, so it is unit-tested and
// fuzzed (tests/fuzz/checkpoint_error_fuzz.cc) without a runtime.
#pragma once

#include <array>
#include <string_view>

#include "common/error.h"

namespace topod::cri {

// The stable reasons (Error::reason()) of the runtime client's errors.
inline constexpr std::string_view kRuntimeUnreachable = "RuntimeUnreachable";
inline constexpr std::string_view kCheckpointUnsupported = "CheckpointUnsupported";
inline constexpr std::string_view kCriuMissing = "CriuMissing";
inline constexpr std::string_view kCheckpointTimeout = "CheckpointTimeout";
inline constexpr std::string_view kContainerNotFound = "ContainerNotFound";
inline constexpr std::string_view kCheckpointFailed = "CheckpointFailed";
inline constexpr std::string_view kCheckpointCancelled = "Cancelled";
inline constexpr std::array<std::string_view, 7> kCheckpointReasons = {
    kRuntimeUnreachable, kCheckpointUnsupported, kCriuMissing,         kCheckpointTimeout,
    kContainerNotFound,  kCheckpointFailed,      kCheckpointCancelled,
};

// The runtime's message is cut to this many bytes: containerd's criu errors quote whole log
// paths and lines, and the result ends up in an Eviction's status message.
inline constexpr std::size_t kMaxRuntimeMessage = 400;

// A failed CheckpointContainer (or Version) call: `grpc_code` as google.rpc.Code numbers it
// (any int; unknown numbers count as Unknown), `message` as the runtime sent it. Never OK: a
// code of 0 is classified as CheckpointFailed.
Error classifyCheckpointError(int grpc_code, std::string_view message);

}  // namespace topod::cri
