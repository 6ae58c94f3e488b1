#include "state/json_fields.h"

#include <exception>
#include <vector>

namespace topod::policies::json {

Result<Json> parseStrict(std::string_view text, std::string_view source) {
  // Key sets of the objects being parsed, innermost last: the callback sees every key in order.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      case Json::parse_event_t::array_start:
      case Json::parse_event_t::array_end:
      case Json::parse_event_t::value: break;
    }
    return true;
  };
  Json value;
  try {
    value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    // nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 4: ...".
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    return Error::invalidArgument(std::string(source) + ": invalid JSON: " + what);
  } catch (const std::exception& e) {
    return Error::invalidArgument(std::string(source) + ": invalid JSON: " + e.what());
  }
  if (!duplicate.empty()) {
    return Error::invalidArgument(std::string(source) + ": key \"" + duplicate + "\" appears twice in one object");
  }
  return value;
}

std::string dumpCompact(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

Fields::Fields(const Json& value, std::string source, std::string path)
    : value_(value), source_(std::move(source)), path_(std::move(path)) {
  if (!value_.is_object()) error_ = source_ + ": " + (path_.empty() ? "document" : path_) + ": expected a JSON object";
}

bool Fields::has(const char* key) const { return value_.is_object() && value_.contains(key); }

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

const Json* Fields::raw(const char* key, bool required) { return lookup(key, required); }

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
