// Kubeconfig YAML: arbitrary bytes must give a config or an error, never a crash, and a
// parsed document must survive being written as JSON and read back (JSON is YAML) unchanged,
// and likewise written by the YAML emitter (toYaml) and read back.
// The one exception is the empty document: it is JSON null, and every YAML scalar (including
// `null`) reads back as a string, so null has no round trip by design.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "kube/config.h"
#include "kube/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = topod::kube::parseYaml(text);
  if (doc && !doc->is_null()) {
    std::string json = doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto again = topod::kube::parseYaml(json);
    if (!again) std::abort();
    if (again->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) != json) std::abort();
    auto yaml = topod::kube::toYaml(*doc);
    if (!yaml) std::abort();
    auto back = topod::kube::parseYaml(*yaml);
    if (!back || *back != *doc) std::abort();
  }
  (void)topod::kube::parseKubeconfig(text, "/nonexistent/kubeconfig");
  return 0;
}
