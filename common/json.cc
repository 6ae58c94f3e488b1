#include "common/json.h"

#include <exception>
#include <set>
#include <vector>

namespace topod::json {

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
  const std::string prefix = source.empty() ? std::string() : std::string(source) + ": ";
  Json value;
  try {
    value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    // nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 4: ...".
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    return Error::invalidArgument(prefix + "invalid JSON: " + what);
  } catch (const std::exception& e) {
    return Error::invalidArgument(prefix + "invalid JSON: " + e.what());
  }
  if (!duplicate.empty())
    return Error::invalidArgument(prefix + "key \"" + duplicate + "\" appears twice in one object");
  return value;
}

std::string dumpCompact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace topod::json
