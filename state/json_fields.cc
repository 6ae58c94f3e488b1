#include "state/json_fields.h"

#include <utility>

namespace topod::policies::json {

Fields::Fields(const Json& value, std::string source, std::string path)
    : value_(value), source_(std::move(source)), path_(std::move(path)) {
  if (!value_.is_object()) error_ = source_ + ": " + (path_.empty() ? "document" : path_) + ": expected a JSON object";
}

bool Fields::has(const char* key) const {
  return value_.is_object() && value_.contains(key);
}

std::string Fields::pathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Fields::fail(std::string_view key, const std::string& problem) {
  if (error_.empty()) error_ = source_ + ": " + pathOf(key) + ": " + problem;
}

const Json* Fields::lookup(const char* key, bool required) {
  if (!value_.is_object()) return nullptr;
  seen_.insert(key);
  auto it = value_.find(key);
  if (it == value_.end()) {
    if (required) fail(key, "missing");
    return nullptr;
  }
  return &*it;
}

std::string Fields::string(const char* key, bool required, std::string fallback) {
  const Json* v = lookup(key, required);
  if (v == nullptr) return fallback;
  if (!v->is_string()) {
    fail(key, "expected a string, got " + dumpCompact(*v));
    return fallback;
  }
  return v->get<std::string>();
}

int64_t Fields::int64(const char* key, bool required, int64_t fallback) {
  const Json* v = lookup(key, required);
  if (v == nullptr) return fallback;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      fail(key, "integer " + dumpCompact(*v) + " is out of range");
      return fallback;
    }
    return static_cast<int64_t>(u);
  }
  if (!v->is_number_integer()) {
    fail(key, "expected an integer, got " + dumpCompact(*v));
    return fallback;
  }
  return v->get<int64_t>();
}

uint64_t Fields::uint64(const char* key, bool required, uint64_t fallback) {
  const Json* v = lookup(key, required);
  if (v == nullptr) return fallback;
  auto parsed = asUint64(*v, "");
  if (!parsed.has_value()) {
    fail(key, parsed.error().message());
    return fallback;
  }
  return *parsed;
}

const Json* Fields::object(const char* key, bool required) {
  const Json* v = lookup(key, required);
  if (v != nullptr && !v->is_object()) {
    fail(key, "expected an object, got " + dumpCompact(*v));
    return nullptr;
  }
  return v;
}

const Json* Fields::array(const char* key, bool required) {
  const Json* v = lookup(key, required);
  if (v != nullptr && !v->is_array()) {
    fail(key, "expected an array, got " + dumpCompact(*v));
    return nullptr;
  }
  return v;
}

const Json* Fields::raw(const char* key, bool required) {
  return lookup(key, required);
}

Status Fields::finish() {
  if (!error_.empty()) return Error::invalidArgument(error_);
  for (const auto& [key, v] : value_.items()) {
    (void)v;
    if (seen_.count(key) == 0) {
      return Error::invalidArgument(source_ + ": " + pathOf(key) + ": unknown key");
    }
  }
  return okStatus();
}

Result<uint64_t> asUint64(const Json& value, const std::string& where) {
  std::string prefix = where.empty() ? "" : where + ": ";
  if (!value.is_number_unsigned()) {
    return Error::invalidArgument(prefix + "expected a non-negative integer, got " + dumpCompact(value));
  }
  return value.get<uint64_t>();
}

}  // namespace topod::policies::json
