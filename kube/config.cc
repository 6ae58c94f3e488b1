#include "kube/config.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "kube/yaml_json.h"

namespace topod::kube {
namespace {

// Kubernetes mounts service account files as links into a "..data" directory: they are followed.
Result<std::string> readFile(const std::string& path, const std::string& what) {
  auto text = readRegularFile(path, {.no_follow = false});
  if (!text.has_value()) return text.error().withContext(what);
  return text;
}

std::string dirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash);
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return base_dir + "/" + path;
}

// A string member, "" when it is missing or not a string (YAML lets any node stand there).
std::string stringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The entry named `name` of a kubeconfig list ("clusters", "users", "contexts").
const nlohmann::json* findNamed(const nlohmann::json& config, const char* list, const std::string& name) {
  auto it = config.find(list);
  if (it == config.end() || !it->is_array()) return nullptr;
  for (const auto& entry : *it) {
    if (entry.is_object() && stringField(entry, "name") == name) return &entry;
  }
  return nullptr;
}

// A PEM from "<key>-data" (base64) or "<key>" (a file), "" when neither is set.
Result<std::string> pemField(const nlohmann::json& object, const std::string& key, const std::string& base_dir) {
  std::string data = stringField(object, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64Decode(data);
    if (!decoded) return decoded.error().withContext(key + "-data");
    return decoded;
  }
  std::string file = stringField(object, key.c_str());
  if (file.empty()) return std::string();
  return readFile(resolve(base_dir, file), key);
}

Result<ClientConfig> fromKubeconfig(const nlohmann::json& config, const std::string& path, const std::string& wanted) {
  if (!config.is_object()) return Error::invalidArgument("not a kubeconfig (no mapping at the top)");
  std::string context_name = wanted.empty() ? stringField(config, "current-context") : wanted;
  if (context_name.empty()) return Error::invalidArgument("no current-context");
  const nlohmann::json* context = findNamed(config, "contexts", context_name);
  if (context == nullptr || !context->contains("context")) {
    return Error::invalidArgument("context \"" + context_name + "\" not found");
  }
  const nlohmann::json& ctx = (*context)["context"];
  std::string cluster_name = stringField(ctx, "cluster");
  std::string user_name = stringField(ctx, "user");
  const nlohmann::json* cluster = findNamed(config, "clusters", cluster_name);
  if (cluster == nullptr || !cluster->contains("cluster") || !(*cluster)["cluster"].is_object()) {
    return Error::invalidArgument("cluster \"" + cluster_name + "\" of context \"" + context_name + "\" not found");
  }
  const nlohmann::json& c = (*cluster)["cluster"];
  const std::string base = dirOf(path);
  ClientConfig out;
  out.origin = "kubeconfig " + path + ", context " + context_name;
  out.server = stringField(c, "server");
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  if (out.server.rfind("https://", 0) != 0) {
    return Error::invalidArgument("cluster \"" + cluster_name + "\": server \"" + out.server +
                                  "\" is not an https:// URL (topod always verifies TLS)");
  }
  if (stringField(c, "insecure-skip-tls-verify") == "true") {
    return Error::invalidArgument("cluster \"" + cluster_name +
                                  "\": insecure-skip-tls-verify is not supported (topod always verifies TLS)");
  }
  auto ca = pemField(c, "certificate-authority", base);
  if (!ca) return ca.error().withContext("cluster \"" + cluster_name + "\"");
  if (ca->empty()) {
    return Error::invalidArgument("cluster \"" + cluster_name +
                                  "\" has no certificate-authority(-data): topod needs the CA to verify the server");
  }
  out.ca_pem = std::move(*ca);

  const nlohmann::json* user = findNamed(config, "users", user_name);
  if (user == nullptr) return out;  // anonymous
  const nlohmann::json& u = user->contains("user") ? (*user)["user"] : nlohmann::json::object();
  if (!u.is_object()) return out;
  if (u.contains("exec")) {
    return Error::invalidArgument("user \"" + user_name +
                                  "\" uses an exec credential plugin, which topod does not run; use a token, a "
                                  "token file or a client certificate");
  }
  if (u.contains("auth-provider")) {
    return Error::invalidArgument("user \"" + user_name + "\" uses an auth-provider, which topod does not support");
  }
  auto cert = pemField(u, "client-certificate", base);
  if (!cert) return cert.error().withContext("user \"" + user_name + "\"");
  auto key = pemField(u, "client-key", base);
  if (!key) return key.error().withContext("user \"" + user_name + "\"");
  if (cert->empty() != key->empty()) {
    return Error::invalidArgument("user \"" + user_name + "\": client certificate and key must both be set");
  }
  out.client_cert_pem = std::move(*cert);
  out.client_key_pem = std::move(*key);
  out.token = stringField(u, "token");
  std::string token_file = stringField(u, "tokenFile");
  if (!token_file.empty()) out.token_file = resolve(base, token_file);
  return out;
}

}  // namespace

Result<std::string> base64Decode(const std::string& text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char ch : text) {
    int value;
    if (ch >= 'A' && ch <= 'Z') {
      value = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      value = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      value = ch - '0' + 52;
    } else if (ch == '+') {
      value = 62;
    } else if (ch == '/') {
      value = 63;
    } else if (ch == '=') {
      break;
    } else if (ch == '\n' || ch == '\r' || ch == ' ') {
      continue;
    } else {
      return Error::invalidArgument("invalid base64 character");
    }
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

Result<ClientConfig> parseKubeconfig(std::string_view text, const std::string& path, const std::string& context) {
  auto doc = parseYaml(text);
  if (!doc) return doc.error().withContext("kubeconfig " + path);
  auto config = fromKubeconfig(*doc, path, context);
  if (!config) return config.error().withContext("kubeconfig " + path);
  return config;
}

Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  auto text = readFile(path, "kubeconfig");
  if (!text) return text.error();
  return parseKubeconfig(*text, path, context);
}

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<ClientConfig> inClusterConfig(const EnvLookup& env, const std::string& service_account_dir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return Error::failedPrecondition(
        "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in "
        "a pod? set kubernetes.kubeconfig)");
  }
  ClientConfig out;
  // An IPv6 service address needs brackets in a URL.
  std::string address = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;
  out.server = "https://" + address + ":" + *port;
  auto ca = readFile(service_account_dir + "/ca.crt", "in-cluster CA");
  if (!ca) return ca.error();
  out.ca_pem = std::move(*ca);
  out.token_file = service_account_dir + "/token";
  auto token = readFile(out.token_file, "in-cluster token");
  if (!token) return token.error();
  out.origin = "in-cluster service account (" + out.server + ")";
  return out;
}

}  // namespace topod::kube
