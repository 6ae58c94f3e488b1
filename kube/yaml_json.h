// A YAML document as JSON: enough of YAML for kubeconfig files (block and flow mappings and
// sequences, plain and quoted scalars, anchors resolved as copies). Every scalar becomes a JSON
// string (kubeconfig fields are all strings; callers compare "true" themselves). Parsed by
// libyaml, so nothing here is a hand-written YAML grammar.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "common/result.h"

namespace topod::kube {

// The first document of `text`; an empty document is a null JSON value. Errors name the line and
// column libyaml reports.
Result<nlohmann::json> parseYaml(std::string_view text);

// `value` as one YAML document (block style, keys in the JSON object's order), written by
// libyaml's emitter. Strings that YAML would read as something else ("32", "true", "null",
// "yes", "", ...) are double-quoted, so a YAML 1.1 or 1.2 reader gets the same JSON back
// (numbers, booleans and null stay plain). Errors: what the emitter reports (it refuses
// nothing a JSON value can hold, so only on running out of memory).
Result<std::string> toYaml(const nlohmann::json& value);

}  // namespace topod::kube
