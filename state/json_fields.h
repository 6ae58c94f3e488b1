// Strict reading of JSON documents for the policy engine's file formats (state, simulator
// traces), on common/json.h's parser: nothing throws past this header's functions, every
// error names the source and the field path ("state.json: containers[2].memory.\"0\": ..."),
// duplicate keys and unknown keys are errors, and integers are never silently truncated.
// For state/ and simulator/ formats: include it only from .cc files (nlohmann/json.hpp is slow
// to compile).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/result.h"

namespace topod::policies::json {

// Parsing and dumping: common/json.h, the tree's one strict JSON parser.
using ::topod::json::dumpCompact;
using ::topod::json::Json;
using ::topod::json::parseStrict;

// Reads the fields of one JSON object. Getters record the first problem and return the
// fallback; finish() reports it, or the first key no getter asked for.
class Fields {
 public:
  // `path` names the object in errors, e.g. "containers[3]".
  Fields(const Json& value, std::string source, std::string path);

  bool ok() const { return error_.empty(); }
  bool has(const char* key) const;
  std::string string(const char* key, bool required, std::string fallback = {});
  int64_t int64(const char* key, bool required, int64_t fallback = 0);
  uint64_t uint64(const char* key, bool required, uint64_t fallback = 0);
  // nullptr when absent (an error when required) or of the wrong type.
  const Json* object(const char* key, bool required);
  const Json* array(const char* key, bool required);
  // Marks a key as known without reading it (the caller reads it its own way).
  const Json* raw(const char* key, bool required);

  std::string pathOf(std::string_view key) const;
  void fail(std::string_view key, const std::string& problem);
  Status finish();

 private:
  const Json* lookup(const char* key, bool required);

  const Json& value_;
  std::string source_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
  std::string error_;
};

// Reads an unsigned integer that is itself the JSON value (not a field of an object).
Result<uint64_t> asUint64(const Json& value, const std::string& where);

}  // namespace topod::policies::json
