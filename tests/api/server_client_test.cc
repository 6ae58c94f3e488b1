// The server and the client over a real unix socket in a temp directory, against a fake Backend:
// every call, errors with their reasons, the socket's permissions, stale and live sockets, and
// the message when nothing listens.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "api/client.h"
#include "api/server.h"
#include "api/socket_probe.h"
#include "tests/api/fake_backend.h"

namespace topod::api {
namespace {

class ApiTempDir {
 public:
  ApiTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "topod-api-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ApiTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A bound unix socket that never accepts: what a crashed agent leaves once its fd is closed
// (closed here at once: connect() then gets ECONNREFUSED).
void leaveStaleSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  ::close(fd);
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.status_info = StatusInfo{.agent_version = {},
                                      .synchronized = true,
                                      .runtime_connected = true,
                                      .runtime_name = "containerd",
                                      .runtime_version = "v1.7.24",
                                      .policy = "static",
                                      .pods = 2,
                                      .containers = 3,
                                      .allocations = 3,
                                      .exclusive_containers = 1,
                                      .exclusive_cpus = CpuSet::parse("2-3").value(),
                                      .shared_cpus = CpuSet::parse("0-1,4-15").value(),
                                      .reserved_cpus = CpuSet::parse("0").value(),
                                      .refusals = 1};
    backend_.allocation_list = {AllocationInfo{.pod_uid = "u1",
                                               .pod_namespace = "default",
                                               .pod_name = "db",
                                               .container = "main",
                                               .container_id = "c1",
                                               .qos = QosClass::Guaranteed,
                                               .exclusive_cpus = CpuSet::parse("2-3").value(),
                                               .cpus = CpuSet::parse("2-3").value(),
                                               .mems = NodeSet::parse("0").value(),
                                               .memory_bytes = 1 << 30,
                                               .running = true}};
    backend_.explanations = {ContainerExplanation{.pod_uid = "u2",
                                                  .pod_namespace = "default",
                                                  .pod_name = "big",
                                                  .container = "main",
                                                  .admitted = false,
                                                  .request = "cpu 32 (limit 32)",
                                                  .qos = QosClass::Guaranteed,
                                                  .cpus = {},
                                                  .mems = {},
                                                  .exclusive_cpus = {},
                                                  .explanation = "cpu: not enough CPUs available",
                                                  .reason = "TopologyAffinityError"}};
  }
  std::string socket() const { return dir_.path() + "/run/api.sock"; }

  ApiTempDir dir_;
  testing::FakeBackend backend_;
};

TEST_F(ApiServerTest, EveryCallRoundTripsThroughTheSocket) {
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value()) << server.error().toString();
  Client client(socket());

  auto status = client.status();
  ASSERT_TRUE(status.has_value()) << status.error().toString();
  StatusInfo expected = backend_.status_info;
  expected.agent_version = status->agent_version;
  EXPECT_FALSE(status->agent_version.empty()) << "the server names its version";
  EXPECT_EQ(*status, expected);

  auto allocations = client.allocations();
  ASSERT_TRUE(allocations.has_value()) << allocations.error().toString();
  EXPECT_EQ(*allocations, backend_.allocation_list);

  auto explained = client.explain(ExplainQuery{.pod = "default/big", .container = "main"});
  ASSERT_TRUE(explained.has_value()) << explained.error().toString();
  EXPECT_EQ(*explained, backend_.explanations);
  EXPECT_EQ(backend_.last_query.pod, "default/big");
  EXPECT_EQ(backend_.last_query.container, "main");

  policies::PodRequest pod{.uid = "",
                           .namespace_name = "ns",
                           .name = "new",
                           .qos = QosClass::Guaranteed,
                           .annotations = {},
                           .containers = {policies::ContainerRequest{.name = "a",
                                                                     .kind = policies::ContainerKind::App,
                                                                     .cpu_request_millis = 2000,
                                                                     .cpu_limit_millis = 2000,
                                                                     .memory_request_bytes = 1 << 20,
                                                                     .memory_limit_bytes = 1 << 20,
                                                                     .hugepages = {{2 << 20, 4 << 20}},
                                                                     .devices = {}}}};
  auto what_if = client.whatIf(pod);
  ASSERT_TRUE(what_if.has_value()) << what_if.error().toString();
  EXPECT_EQ(backend_.last_what_if, pod);
  EXPECT_EQ(backend_.calls.load(), 4);
}

TEST_F(ApiServerTest, TheBackendsErrorKeepsItsCodeMessageAndReason) {
  backend_.error = Error::notFound("topod knows no container of pod default/x").withReason("NoSuchPod");
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value()) << server.error().toString();
  Client client(socket());
  auto explained = client.explain(ExplainQuery{.pod = "default/x", .container = {}});
  ASSERT_FALSE(explained.has_value());
  EXPECT_EQ(explained.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(explained.error().message(), "topod knows no container of pod default/x");
  EXPECT_EQ(explained.error().reason(), "NoSuchPod");
}

TEST_F(ApiServerTest, TheServerRefusesABadWhatIfBeforeTheBackendSeesIt) {
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value());
  Client client(socket());
  policies::PodRequest pod{.uid = "u", .namespace_name = "ns", .name = "p"};
  pod.containers.push_back(policies::ContainerRequest{.name = "a"});
  pod.containers.push_back(policies::ContainerRequest{.name = "a"});
  auto what_if = client.whatIf(pod);
  ASSERT_FALSE(what_if.has_value());
  EXPECT_EQ(what_if.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(what_if.error().message().find("two containers named \"a\""), std::string::npos);
  EXPECT_EQ(backend_.calls.load(), 0);

  auto empty = client.explain(ExplainQuery{});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(backend_.calls.load(), 0);
}

TEST_F(ApiServerTest, TheSocketIsRootOnlyAndGoesAwayAtStop) {
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(modeOf(socket()), 0600);
  EXPECT_EQ(modeOf(dir_.path() + "/run"), 0700) << "the directory topod created";
  (*server)->stop();
  EXPECT_FALSE(std::filesystem::exists(socket()));
  (*server)->stop();  // idempotent
}

// Root-only: another user is refused by the directory and the socket's modes.
TEST_F(ApiServerTest, AnotherUserCannotConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  // The temp dir itself must let "nobody" reach the socket's directory for the test to mean it.
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    constexpr uid_t kNobody = 65534;
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
    ::_exit(probeSocket(socket()).probe == SocketProbe::Denied ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "another user could reach the API socket (exit 1) or the test could not "
                                       "switch users (exit 2)";
}

TEST_F(ApiServerTest, AStaleSocketIsReplaced) {
  std::filesystem::create_directories(dir_.path() + "/run");
  leaveStaleSocket(socket());
  ASSERT_TRUE(std::filesystem::is_socket(socket()));
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value()) << server.error().toString();
  EXPECT_TRUE(Client(socket()).status().has_value());
}

TEST_F(ApiServerTest, ALiveSocketIsAStartupError) {
  auto first = Server::start(socket(), backend_);
  ASSERT_TRUE(first.has_value());
  auto second = Server::start(socket(), backend_);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(second.error().message().find("another process (another topod agent?) serves it"), std::string::npos)
      << second.error().message();
  EXPECT_TRUE(Client(socket()).status().has_value()) << "the first server still serves";
}

TEST_F(ApiServerTest, APathThatIsNoSocketIsNeverReplaced) {
  std::filesystem::create_directories(dir_.path() + "/run");
  std::ofstream(socket()) << "precious";
  auto server = Server::start(socket(), backend_);
  ASSERT_FALSE(server.has_value());
  EXPECT_NE(server.error().message().find("is not a socket; not replaced"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_regular_file(socket()));
}

TEST_F(ApiServerTest, ARelativePathIsRefused) {
  auto server = Server::start("run/api.sock", backend_);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(ApiServerTest, NoServerSaysNoAgentAndWhy) {
  Client client(socket());
  auto status = client.status();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::Unavailable);
  EXPECT_EQ(status.error().reason(), kNoAgentReason);
  EXPECT_EQ(status.error().message(), "no topod agent is listening on " + socket() + ": no such socket");

  std::filesystem::create_directories(dir_.path() + "/run");
  leaveStaleSocket(socket());
  auto stale = client.allocations();
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().reason(), kNoAgentReason);
  EXPECT_NE(stale.error().message().find("connection refused"), std::string::npos) << stale.error().message();
}

TEST_F(ApiServerTest, AStoppedServerIsNoAgentForTheNextCall) {
  auto server = Server::start(socket(), backend_);
  ASSERT_TRUE(server.has_value());
  Client client(socket());
  ASSERT_TRUE(client.status().has_value());
  (*server)->stop();
  auto status = client.status();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().reason(), kNoAgentReason);
}

}  // namespace
}  // namespace topod::api
