#include "nri/transport.h"

#include <gtest/gtest.h>

#include <map>

namespace topod::nri {
namespace {

struct EnvCase {
  const char* name;
  std::map<std::string, std::string> env;
  const char* argv0;
  bool ok;
  const char* plugin_name;
  const char* plugin_idx;
  int fd;
};

class LaunchEnvTest : public ::testing::TestWithParam<EnvCase> {};

TEST_P(LaunchEnvTest, Resolves) {
  const EnvCase& c = GetParam();
  auto get = [&c](const char* key) -> const char* {
    auto it = c.env.find(key);
    return it == c.env.end() ? nullptr : it->second.c_str();
  };
  auto env = resolveLaunchEnvironment(get, c.argv0, "topod", "90");
  ASSERT_EQ(env.has_value(), c.ok);
  if (!c.ok) return;
  EXPECT_EQ(env->plugin_name, c.plugin_name);
  EXPECT_EQ(env->plugin_idx, c.plugin_idx);
  EXPECT_EQ(env->inherited_fd, c.fd);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LaunchEnvTest,
    ::testing::Values(
        EnvCase{"external", {}, "/usr/bin/topod", true, "topod", "90", -1},
        EnvCase{"launched",
                {{"NRI_PLUGIN_SOCKET", "3"}, {"NRI_PLUGIN_NAME", "topod"}, {"NRI_PLUGIN_IDX", "05"}},
                "/opt/nri/plugins/05-topod",
                true,
                "topod",
                "05",
                3},
        EnvCase{"nri_0_3_name_bug",
                {{"NRI_PLUGIN_SOCKET", "3"}, {"NRI_PLUGIN_NAME", "05-topod"}, {"NRI_PLUGIN_IDX", "05"}},
                "x",
                true,
                "topod",
                "05",
                3},
        EnvCase{"name_from_argv0", {{"NRI_PLUGIN_SOCKET", "4"}}, "/opt/nri/plugins/10-topod", true, "topod", "10", 4},
        EnvCase{"argv0_unparsable", {{"NRI_PLUGIN_SOCKET", "3"}}, "/opt/nri/plugins/topod", false, "", "", 0},
        EnvCase{"socket_not_a_number", {{"NRI_PLUGIN_SOCKET", "x3"}}, "a", false, "", "", 0}),
    [](const auto& row) { return std::string(row.param.name); });

struct IdentityCase {
  const char* name;
  const char* plugin_name;
  const char* idx;
  bool ok;
};

class IdentityTest : public ::testing::TestWithParam<IdentityCase> {};

TEST_P(IdentityTest, Validates) {
  EXPECT_EQ(validatePluginIdentity(GetParam().plugin_name, GetParam().idx).has_value(), GetParam().ok);
}

INSTANTIATE_TEST_SUITE_P(Cases, IdentityTest,
                         ::testing::Values(IdentityCase{"plain", "topod", "90", true},
                                           IdentityCase{"punctuation", "a_b.c+d-e", "00", true},
                                           IdentityCase{"one_digit_index", "topod", "9", false},
                                           IdentityCase{"letter_index", "topod", "9a", false},
                                           IdentityCase{"empty_name", "", "10", false},
                                           IdentityCase{"slash_in_name", "a/b", "10", false}),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(UnixSocketConnector, RejectsOverlongPath) {
  UnixSocketConnector connector(std::string(200, 'x'));
  EXPECT_EQ(connector.connect().error().code(), ErrorCode::InvalidArgument);
}

TEST(UnixSocketConnector, MissingSocketIsUnavailable) {
  UnixSocketConnector connector("/tmp/topod-nri-no-such.sock");
  EXPECT_EQ(connector.connect().error().code(), ErrorCode::Unavailable);
}

}  // namespace
}  // namespace topod::nri
