#include "common/error.h"

#include <cstring>

namespace topod {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::Ok: return "OK";
    case ErrorCode::Cancelled: return "CANCELLED";
    case ErrorCode::Unknown: return "UNKNOWN";
    case ErrorCode::InvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::DeadlineExceeded: return "DEADLINE_EXCEEDED";
    case ErrorCode::NotFound: return "NOT_FOUND";
    case ErrorCode::AlreadyExists: return "ALREADY_EXISTS";
    case ErrorCode::PermissionDenied: return "PERMISSION_DENIED";
    case ErrorCode::ResourceExhausted: return "RESOURCE_EXHAUSTED";
    case ErrorCode::FailedPrecondition: return "FAILED_PRECONDITION";
    case ErrorCode::Aborted: return "ABORTED";
    case ErrorCode::OutOfRange: return "OUT_OF_RANGE";
    case ErrorCode::Unimplemented: return "UNIMPLEMENTED";
    case ErrorCode::Internal: return "INTERNAL";
    case ErrorCode::Unavailable: return "UNAVAILABLE";
    case ErrorCode::DataLoss: return "DATA_LOSS";
    case ErrorCode::Unauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

Error Error::fromErrno(int sys_errno, std::string message) {
  message += ": ";
  message += std::strerror(sys_errno);
  ErrorCode code = ErrorCode::Unknown;
  switch (sys_errno) {
    case ENOENT: code = ErrorCode::NotFound; break;
    case EACCES:
    case EPERM: code = ErrorCode::PermissionDenied; break;
    case EINVAL: code = ErrorCode::InvalidArgument; break;
    case EEXIST: code = ErrorCode::AlreadyExists; break;
    case ENOSPC:
    case ENOMEM: code = ErrorCode::ResourceExhausted; break;
    case ETIMEDOUT: code = ErrorCode::DeadlineExceeded; break;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case EAGAIN: code = ErrorCode::Unavailable; break;
    default: break;
  }
  return Error(code, std::move(message), sys_errno);
}

Error Error::withContext(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).withContext(context);
}

Error Error::withContext(std::string_view context) && {
  message_ = std::string(context) + ": " + message_;
  return std::move(*this);
}

std::string Error::toString() const {
  return std::string(errorCodeName(code_)) + ": " + message_;
}

}  // namespace topod
