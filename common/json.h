// The one strict JSON parser of the tree, for every file format topod reads (topology snapshots,
// state, journal records, simulator traces): nlohmann::json wrapped so that nothing throws past
// these functions, and duplicate keys in an object are an error (nlohmann would keep the last one
// silently: two readers could then disagree about the same file). Field-by-field reading of the
// policies' formats is policies/json_fields.h.
// Include it only from .cc files: nlohmann/json.hpp is slow to compile.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::json {

using Json = nlohmann::json;

// Parses one JSON document. Errors: InvalidArgument, "<source>: invalid JSON: <what> at line L,
// column C" or "<source>: key \"k\" appears twice in one object" (without "<source>: " when
// `source` is empty).
Result<Json> parseStrict(std::string_view text, std::string_view source);

// Compact dump that never throws: invalid UTF-8 is replaced by U+FFFD.
std::string dumpCompact(const Json& value);

}  // namespace topod::json
