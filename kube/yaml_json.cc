#include "kube/yaml_json.h"

#include <yaml.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace topod::kube {
namespace {

// Nesting deeper than this is not a kubeconfig; refusing it keeps the recursion bounded.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    // libyaml asserts on a null input even of length 0, which an empty string_view may carry.
    static constexpr unsigned char kEmpty[] = "";
    const unsigned char* input = text.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(text.data());
    yaml_parser_set_input_string(&parser_, input, text.size());
  }
  ~Parser() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  Result<nlohmann::json> document() {
    TOPOD_RETURN_IF_ERROR(next());  // stream start
    TOPOD_RETURN_IF_ERROR(next());
    if (event_.type == YAML_STREAM_END_EVENT) return nlohmann::json();
    if (event_.type != YAML_DOCUMENT_START_EVENT) return error("expected a document");
    TOPOD_RETURN_IF_ERROR(next());
    if (event_.type == YAML_DOCUMENT_END_EVENT) return nlohmann::json();
    return node(0);
  }

 private:
  Status next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (yaml_parser_parse(&parser_, &event_) == 0) {
      std::string problem = parser_.problem != nullptr ? parser_.problem : "syntax error";
      return Error::invalidArgument("YAML line " + std::to_string(parser_.problem_mark.line + 1) + " column " +
                                    std::to_string(parser_.problem_mark.column + 1) + ": " + problem);
    }
    has_event_ = true;
    return okStatus();
  }

  Error error(const std::string& what) const {
    return Error::invalidArgument("YAML line " + std::to_string(event_.start_mark.line + 1) + ": " + what);
  }

  static std::string anchorOf(const unsigned char* anchor) {
    return anchor == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(anchor));
  }

  // Parses the node whose first event is the current one; leaves its last event current.
  Result<nlohmann::json> node(int depth) {
    if (depth > kMaxDepth) return error("nested deeper than " + std::to_string(kMaxDepth));
    switch (event_.type) {
      case YAML_SCALAR_EVENT: {
        nlohmann::json value =
            std::string(reinterpret_cast<const char*>(event_.data.scalar.value), event_.data.scalar.length);
        remember(anchorOf(event_.data.scalar.anchor), value);
        return value;
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(anchorOf(event_.data.alias.anchor));
        if (it == anchors_.end()) return error("unknown alias");
        return it->second;
      }
      case YAML_SEQUENCE_START_EVENT: {
        std::string anchor = anchorOf(event_.data.sequence_start.anchor);
        nlohmann::json out = nlohmann::json::array();
        for (;;) {
          TOPOD_RETURN_IF_ERROR(next());
          if (event_.type == YAML_SEQUENCE_END_EVENT) break;
          auto item = node(depth + 1);
          if (!item) return item.error();
          out.push_back(std::move(*item));
        }
        remember(anchor, out);
        return out;
      }
      case YAML_MAPPING_START_EVENT: {
        std::string anchor = anchorOf(event_.data.mapping_start.anchor);
        nlohmann::json out = nlohmann::json::object();
        for (;;) {
          TOPOD_RETURN_IF_ERROR(next());
          if (event_.type == YAML_MAPPING_END_EVENT) break;
          if (event_.type != YAML_SCALAR_EVENT) return error("mapping keys must be scalars");
          std::string key(reinterpret_cast<const char*>(event_.data.scalar.value), event_.data.scalar.length);
          TOPOD_RETURN_IF_ERROR(next());
          auto value = node(depth + 1);
          if (!value) return value.error();
          out[key] = std::move(*value);
        }
        remember(anchor, out);
        return out;
      }
      case YAML_NO_EVENT:
      case YAML_STREAM_START_EVENT:
      case YAML_STREAM_END_EVENT:
      case YAML_DOCUMENT_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: break;
    }
    return error("unexpected YAML event");
  }

  void remember(const std::string& anchor, const nlohmann::json& value) {
    if (!anchor.empty()) anchors_[anchor] = value;
  }

  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
  std::map<std::string, nlohmann::json> anchors_;
};

}  // namespace

Result<nlohmann::json> parseYaml(std::string_view text) {
  Parser parser(text);
  return parser.document();
}

namespace {

// Whether a plain scalar `text` would resolve to something other than a string in YAML 1.2's
// core schema or YAML 1.1 (bools such as "yes", "on", "y"; "~"; numbers in any form).
bool needsQuotes(const std::string& text) {
  if (text.empty()) return true;
  static const char* const kSpecial[] = {"~",     "null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
                                         "FALSE", "yes",  "Yes",  "YES",  "no",   "No",   "NO",   "on",    "On",
                                         "ON",    "off",  "Off",  "OFF",  "y",    "Y",    "n",    "N",     "<<"};
  for (const char* special : kSpecial) {
    if (text == special) return true;
  }
  // Anything starting like a number (digits, sign, dot) may be one: "1e3", ".5", "0x1f", "1_000".
  const char first = text[0];
  if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') return true;
  return false;
}

class Emitter {
 public:
  explicit Emitter(std::string& out) : out_(out) {
    yaml_emitter_initialize(&emitter_);
    yaml_emitter_set_output(&emitter_, &Emitter::write, this);
    yaml_emitter_set_unicode(&emitter_, 1);
    yaml_emitter_set_width(&emitter_, -1);  // no folding of long strings
  }
  ~Emitter() { yaml_emitter_delete(&emitter_); }
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  Status document(const nlohmann::json& value) {
    yaml_event_t event;
    yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
    TOPOD_RETURN_IF_ERROR(emit(event));
    yaml_document_start_event_initialize(&event, nullptr, nullptr, nullptr, 1);
    TOPOD_RETURN_IF_ERROR(emit(event));
    TOPOD_RETURN_IF_ERROR(node(value));
    yaml_document_end_event_initialize(&event, 1);
    TOPOD_RETURN_IF_ERROR(emit(event));
    yaml_stream_end_event_initialize(&event);
    return emit(event);
  }

 private:
  static int write(void* self, unsigned char* buffer, size_t size) {
    static_cast<Emitter*>(self)->out_.append(reinterpret_cast<const char*>(buffer), size);
    return 1;
  }

  Status emit(yaml_event_t& event) {
    // yaml_emitter_emit takes the event over, on failure too.
    if (yaml_emitter_emit(&emitter_, &event) == 0) {
      return Error::internal(std::string("YAML emitter: ") +
                             (emitter_.problem != nullptr ? emitter_.problem : "unknown error"));
    }
    return okStatus();
  }

  Status scalar(const std::string& text, bool is_string) {
    yaml_event_t event;
    const bool quote = is_string && needsQuotes(text);
    yaml_scalar_event_initialize(&event, nullptr, nullptr,
                                 reinterpret_cast<yaml_char_t*>(const_cast<char*>(text.data())),
                                 static_cast<int>(text.size()), quote ? 0 : 1, 1,
                                 quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return emit(event);
  }

  Status node(const nlohmann::json& value) {
    yaml_event_t event;
    if (value.is_object()) {
      yaml_mapping_start_event_initialize(&event, nullptr, nullptr, 1, YAML_BLOCK_MAPPING_STYLE);
      TOPOD_RETURN_IF_ERROR(emit(event));
      for (const auto& [key, item] : value.items()) {
        TOPOD_RETURN_IF_ERROR(scalar(key, true));
        TOPOD_RETURN_IF_ERROR(node(item));
      }
      yaml_mapping_end_event_initialize(&event);
      return emit(event);
    }
    if (value.is_array()) {
      // An empty sequence can only be written in flow style ("[]").
      yaml_sequence_start_event_initialize(&event, nullptr, nullptr, 1,
                                           value.empty() ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
      TOPOD_RETURN_IF_ERROR(emit(event));
      for (const auto& item : value) TOPOD_RETURN_IF_ERROR(node(item));
      yaml_sequence_end_event_initialize(&event);
      return emit(event);
    }
    if (value.is_string()) return scalar(value.get<std::string>(), true);
    // Numbers, booleans and null: JSON's text is also YAML's.
    return scalar(value.dump(), false);
  }

  std::string& out_;
  yaml_emitter_t emitter_;
};

}  // namespace

Result<std::string> toYaml(const nlohmann::json& value) {
  std::string out;
  {
    Emitter emitter(out);
    TOPOD_RETURN_IF_ERROR(emitter.document(value));
  }
  return out;
}

}  // namespace topod::kube
