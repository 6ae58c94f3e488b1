// Error values carried by Result<T> across every module boundary (STYLE.md practice 7).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace topod {

// Canonical error codes, numbered as gRPC/google.rpc.Code so they can travel in ttrpc and gRPC
// statuses unchanged.
enum class ErrorCode : int {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

std::string_view errorCodeName(ErrorCode code);

// An error: what kind (code), the OS errno when one caused it (0 otherwise), a message that
// names the input and what is wrong with it ("cpu list \"3-1\": range end 1 is below start 3"),
// and, where callers must tell one failure from another of the same code, a reason: a stable
// machine-readable word ("SMTAlignmentError") that code matches instead of the message text.
class Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  static Error invalidArgument(std::string message) { return {ErrorCode::InvalidArgument, std::move(message)}; }
  static Error notFound(std::string message) { return {ErrorCode::NotFound, std::move(message)}; }
  static Error failedPrecondition(std::string message) { return {ErrorCode::FailedPrecondition, std::move(message)}; }
  static Error resourceExhausted(std::string message) { return {ErrorCode::ResourceExhausted, std::move(message)}; }
  static Error internal(std::string message) { return {ErrorCode::Internal, std::move(message)}; }
  static Error unavailable(std::string message) { return {ErrorCode::Unavailable, std::move(message)}; }
  static Error dataLoss(std::string message) { return {ErrorCode::DataLoss, std::move(message)}; }
  // An error caused by a failed system call: keeps errno and appends strerror to the message.
  static Error fromErrno(int sys_errno, std::string message);

  ErrorCode code() const { return code_; }
  int sysErrno() const { return sys_errno_; }
  const std::string& message() const { return message_; }
  // Empty unless set with withReason(); kept by withContext().
  const std::string& reason() const { return reason_; }

  Error withReason(std::string_view reason) && {
    reason_ = std::string(reason);
    return std::move(*this);
  }

  // Prepends context, e.g. withContext("loading state /var/lib/topod/state.json").
  Error withContext(std::string_view context) const&;
  Error withContext(std::string_view context) &&;

  // "INVALID_ARGUMENT: message" — for logs and CLI output.
  std::string toString() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode code_;
  int sys_errno_;
  std::string message_;
  std::string reason_;
};

}  // namespace topod
