// Result<T>: a value or an Error. Member names follow C++23 std::expected so that the type can
// later become an alias (STYLE.md practice 7). Accessing the wrong alternative terminates: that
// is a programming error, never a recoverable condition.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/error.h"

namespace topod {

namespace detail {
[[noreturn]] inline void badResultAccess(const char* what, const Error* error) {
  std::fprintf(stderr, "topod: fatal: %s on a Result holding %s\n", what,
               error != nullptr ? error->toString().c_str() : "a value");
  std::abort();
}
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = Error;

  Result(const T& value) : storage_(std::in_place_index<0>, value) {}          // NOLINT: implicit by design
  Result(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}    // NOLINT
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args) : storage_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    if (!has_value()) detail::badResultAccess("value()", &std::get<1>(storage_));
    return std::get<0>(storage_);
  }
  const T& value() const& {
    if (!has_value()) detail::badResultAccess("value()", &std::get<1>(storage_));
    return std::get<0>(storage_);
  }
  T&& value() && {
    if (!has_value()) detail::badResultAccess("value()", &std::get<1>(storage_));
    return std::get<0>(std::move(storage_));
  }
  const Error& error() const {
    if (has_value()) detail::badResultAccess("error()", nullptr);
    return std::get<1>(storage_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = Error;

  Result() = default;
  Result(Error error) : error_(std::move(error)), has_error_(true) {}  // NOLINT: implicit by design

  bool has_value() const { return !has_error_; }
  explicit operator bool() const { return has_value(); }
  void value() const {
    if (has_error_) detail::badResultAccess("value()", &error_);
  }
  const Error& error() const {
    if (!has_error_) detail::badResultAccess("error()", nullptr);
    return error_;
  }

 private:
  Error error_{ErrorCode::Ok, ""};
  bool has_error_ = false;
};

using Status = Result<void>;

inline Status okStatus() {
  return {};
}

}  // namespace topod

// Early return of the error of an expression yielding a Result. Keeps call chains flat.
#define TOPOD_RETURN_IF_ERROR(expr)                               \
  do {                                                            \
    auto topod_status_ = (expr);                                  \
    if (!topod_status_.has_value()) return topod_status_.error(); \
  } while (false)
