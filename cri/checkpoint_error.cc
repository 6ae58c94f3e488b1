#include "cri/checkpoint_error.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace topod::cri {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Printable and short: the message travels into logs and the Eviction's status.
std::string quoted(std::string_view message) {
  std::string out;
  for (char c : message.substr(0, kMaxRuntimeMessage)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (message.size() > kMaxRuntimeMessage) out += "...";
  return out.empty() ? "(no message)" : out;
}

// runc runs `criu` from its PATH (or CriuPath); when it is not there, the error names the binary.
// containerd 2.1.9 without criu (seen in the e2e run): `CRIU binary not found or too old
// (<31600). Failed to checkpoint container "<id>": failed to check for criu version: exec:
// "criu": executable file not found in $PATH`; runc: "CRIU version check failed".
bool saysCriuMissing(const std::string& lower) {
  if (lower.find("criu") == std::string::npos) return false;
  return lower.find("executable file not found") != std::string::npos ||
         lower.find("criu binary not found") != std::string::npos ||
         lower.find("criu version check failed") != std::string::npos ||
         lower.find("criu is not installed") != std::string::npos ||
         lower.find("\"criu\": no such file") != std::string::npos;
}

}  // namespace

Error classifyCheckpointError(int grpc_code, std::string_view message) {
  const std::string text = quoted(message);
  const std::string lower = lowered(message);
  ErrorCode code = ErrorCode::Unknown;
  if (grpc_code > 0 && grpc_code <= static_cast<int>(ErrorCode::Unauthenticated))
    code = static_cast<ErrorCode>(grpc_code);
  switch (code) {
    case ErrorCode::Unimplemented:
      return Error(code,
                   "the runtime does not implement CRI CheckpointContainer (containerd 1.7 does not; "
                   "containerd 2.0+ and CRI-O 1.25+ do): " +
                       text)
          .withReason(kCheckpointUnsupported);
    case ErrorCode::Unavailable:
      return Error(code, "the runtime's CRI socket does not answer: " + text).withReason(kRuntimeUnreachable);
    case ErrorCode::DeadlineExceeded:
      return Error(code, "the checkpoint did not finish within its timeout: " + text).withReason(kCheckpointTimeout);
    case ErrorCode::Cancelled:
      return Error(code, "the checkpoint was cancelled (topod is stopping): " + text).withReason(kCheckpointCancelled);
    case ErrorCode::NotFound:
      if (!saysCriuMissing(lower)) {
        return Error(code, "the runtime does not know the container: " + text).withReason(kContainerNotFound);
      }
      break;
    case ErrorCode::Ok:
    case ErrorCode::Unknown:
    case ErrorCode::InvalidArgument:
    case ErrorCode::AlreadyExists:
    case ErrorCode::PermissionDenied:
    case ErrorCode::ResourceExhausted:
    case ErrorCode::FailedPrecondition:
    case ErrorCode::Aborted:
    case ErrorCode::OutOfRange:
    case ErrorCode::Internal:
    case ErrorCode::DataLoss:
    case ErrorCode::Unauthenticated: break;
  }
  if (code == ErrorCode::Ok) code = ErrorCode::Unknown;
  if (saysCriuMissing(lower)) {
    return Error(ErrorCode::FailedPrecondition,
                 "criu is not installed where the runtime's runc looks for it (install criu on the node): " + text)
        .withReason(kCriuMissing);
  }
  return Error(code, "the runtime could not checkpoint the container: " + text).withReason(kCheckpointFailed);
}

}  // namespace topod::cri
