#include "config/kubernetes_config.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "config/config_reader.h"

namespace topod::agent {

void readKubernetes(TableReader& root, KubernetesConfig& out) {
  root.readSubtable("kubernetes", [&](TableReader& kube) {
    kube.readBool("enabled", out.enabled);
    kube.readString("kubeconfig", out.kubeconfig);
    kube.readString("node_name", out.node_name);
    // Limits that keep a typo from flooding the API server or never publishing.
    kube.readInt("qps", 1, 1000, out.qps);
    kube.readInt("burst", 1, 10000, out.burst);
    kube.readInt("publish_interval_ms", 100, 600000, out.publish_interval_ms);
    kube.readInt("resync_interval_s", 1, 86400, out.resync_interval_s);
    kube.readInt("timeout_ms", 100, 600000, out.timeout_ms);
    kube.finish();
  });
}

std::string resolveNodeName(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = std::getenv("NODE_NAME");
  if (env != nullptr && *env != '\0') return env;
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "";
  std::string name = host;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}

}  // namespace topod::agent
