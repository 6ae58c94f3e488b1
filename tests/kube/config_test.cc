#include "kube/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kube/yaml_json.h"

namespace topod::kube {
namespace {

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/topod-kubeconfig-XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// "-----CA-----" in base64.
constexpr const char* kCaBase64 = "LS0tLS1DQS0tLS0t";

TEST(YamlTest, BlockAndFlowStylesBecomeJson) {
  auto doc = parseYaml(R"(
a: 1
b: "two"
list:
- x: y
- [p, q]
flow: {k: v}
anchor: &A {z: 1}
alias: *A
)");
  ASSERT_TRUE(doc) << doc.error().toString();
  EXPECT_EQ((*doc)["a"], "1");
  EXPECT_EQ((*doc)["b"], "two");
  EXPECT_EQ((*doc)["list"][0]["x"], "y");
  EXPECT_EQ((*doc)["list"][1][1], "q");
  EXPECT_EQ((*doc)["flow"]["k"], "v");
  EXPECT_EQ((*doc)["alias"]["z"], "1");
}

TEST(YamlTest, SyntaxErrorsNameTheLine) {
  auto doc = parseYaml("a: [1, 2\nb: c\n");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message().find("line"), std::string::npos) << doc.error().message();
}

TEST(YamlTest, EmptyDocumentIsNullAndNullTextIsAString) {
  auto none = parseYaml(std::string_view());  // a null pointer of length 0
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->is_null());
  auto empty = parseYaml("");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_TRUE(empty->is_null());
  auto comments = parseYaml("# nothing here\n");
  ASSERT_TRUE(comments) << comments.error().message();
  EXPECT_TRUE(comments->is_null());
  auto word = parseYaml("null");
  ASSERT_TRUE(word) << word.error().message();
  EXPECT_EQ(*word, nlohmann::json("null"));
}

TEST(YamlTest, DeepNestingIsRefused) {
  std::string deep(1000, '[');
  EXPECT_FALSE(parseYaml(deep + std::string(1000, ']')));
}

std::string kubeconfig(const std::string& user) {
  return std::string(R"(apiVersion: v1
kind: Config
current-context: main
contexts:
- name: other
  context: {cluster: c2, user: u}
- name: main
  context:
    cluster: c1
    user: u
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: )") +
         kCaBase64 + R"(
- name: c2
  cluster:
    server: https://10.0.0.2:6443
    certificate-authority: ca.crt
users:
- name: u
  user:
)" + user;
}

TEST(KubeconfigTest, TokenUserAndCaData) {
  TempDir dir;
  auto config = loadKubeconfig(dir.write("kc", kubeconfig("    token: abc\n")));
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, "-----CA-----");
  EXPECT_EQ(config->token, "abc");
  EXPECT_NE(config->origin.find("context main"), std::string::npos);
}

TEST(KubeconfigTest, RelativeFilesAndAnotherContext) {
  TempDir dir;
  dir.write("ca.crt", "CA FILE");
  dir.write("client.crt", "CERT");
  dir.write("client.key", "KEY");
  auto config = loadKubeconfig(
      dir.write("kc", kubeconfig("    client-certificate: client.crt\n    client-key: client.key\n")), "other");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://10.0.0.2:6443");
  EXPECT_EQ(config->ca_pem, "CA FILE");
  EXPECT_EQ(config->client_cert_pem, "CERT");
  EXPECT_EQ(config->client_key_pem, "KEY");
}

TEST(KubeconfigTest, ExecPluginIsOneClearError) {
  TempDir dir;
  auto config = loadKubeconfig(dir.write("kc", kubeconfig("    exec:\n      command: aws\n")));
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("exec credential plugin"), std::string::npos) << config.error().message();
}

TEST(KubeconfigTest, MissingCaInsecureAndPlainHttpAreRefused) {
  TempDir dir;
  std::string no_ca = kubeconfig("    token: t\n");
  no_ca.replace(no_ca.find("certificate-authority-data"), 26, "x-unused");
  auto config = loadKubeconfig(dir.write("kc1", no_ca));
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("certificate-authority"), std::string::npos);

  std::string http = kubeconfig("    token: t\n");
  http.replace(http.find("https://10.0.0.1"), 8, "http://");
  EXPECT_FALSE(loadKubeconfig(dir.write("kc2", http)));

  std::string insecure = kubeconfig("    token: t\n");
  insecure.replace(insecure.find("    server: https://10.0.0.1"), 0, "    insecure-skip-tls-verify: true\n");
  EXPECT_FALSE(loadKubeconfig(dir.write("kc3", insecure)));
}

TEST(KubeconfigTest, MissingFileAndGarbage) {
  TempDir dir;
  EXPECT_FALSE(loadKubeconfig(dir.path() + "/absent"));
  EXPECT_FALSE(loadKubeconfig(dir.write("kc", "just a string")));
  EXPECT_FALSE(loadKubeconfig(dir.write("kc2", "current-context: nope\ncontexts: 5\n")));
}

TEST(KubeconfigTest, ANameThatIsNotAStringIsNoMatchNotACrash) {
  // Found by the kubeconfig fuzz target: YAML lets a mapping stand where a name should be.
  auto config = parseKubeconfig(R"(current-context: main
contexts:
- name: {server: x}
  context: {cluster: c1, user: u}
- name: [main]
clusters:
- name: {c1: c1}
  cluster: {server: "https://h"}
)",
                                "/k/config");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("main"), std::string::npos) << config.error().message();
}

TEST(InClusterTest, ReadsServiceAccountFiles) {
  TempDir dir;
  dir.write("ca.crt", "CA");
  dir.write("token", "tok\n");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto config = inClusterConfig(lookup, dir.path());
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->ca_pem, "CA");
  EXPECT_EQ(config->token_file, dir.path() + "/token");
  env.clear();
  EXPECT_FALSE(inClusterConfig(lookup, dir.path()));
}

TEST(Base64Test, DecodesAndRejects) {
  EXPECT_EQ(base64Decode("aGVsbG8=").value(), "hello");
  EXPECT_EQ(base64Decode("aGVs\nbG8=").value(), "hello");
  EXPECT_FALSE(base64Decode("a*b"));
}

}  // namespace
}  // namespace topod::kube
