// Where the API server is and how topod proves who it is: from a kubeconfig file or from the
// pod's service account (in-cluster). TLS is always verified against a CA; a configuration
// without one, or one that needs an exec credential plugin or an auth provider, is refused with
// one clear error at start-up.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::kube {

struct ClientConfig {
  std::string server;  // "https://host:port", no trailing slash
  std::string ca_pem;  // the CA bundle the server's certificate must chain to (PEM)
  // Client-certificate authentication (both or neither).
  std::string client_cert_pem;
  std::string client_key_pem;
  // Bearer-token authentication: a fixed token, or a file re-read when it changes (projected
  // service-account tokens rotate). The file wins when both are set.
  std::string token;
  std::string token_file;
  // Where the configuration came from, for logs ("kubeconfig /etc/topod/kubeconfig, context x").
  std::string origin;
};

// The kubeconfig's current context (or `context` when not empty). Relative file names in it are
// relative to the kubeconfig's directory, as kubectl reads them.
Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context = "");
// The same from the file's text; `path` names it in errors and anchors relative file names.
Result<ClientConfig> parseKubeconfig(std::string_view text, const std::string& path, const std::string& context = "");

// Looks up an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnv();

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// In-cluster: KUBERNETES_SERVICE_HOST/PORT, `<dir>/token` (re-read on rotation) and `<dir>/ca.crt`.
Result<ClientConfig> inClusterConfig(const EnvLookup& env, const std::string& service_account_dir = kServiceAccountDir);

// Standard base64 (kubeconfig's *-data fields). Errors on characters outside the alphabet.
Result<std::string> base64Decode(const std::string& text);

}  // namespace topod::kube
