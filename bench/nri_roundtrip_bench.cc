// NRI CreateContainer round trip: runtime simulator -> topod's plugin (trivial decision) ->
// simulator, over a real unix socket, against a raw unix-socket echo of the same bytes (the
// request frames one way, the response frames back), measured in the same run.
// Prints p50/p99 of both and their ratio; the goal is a ratio within 2x.
//   nri_roundtrip_bench [iterations]
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "nri/convert.h"
#include "nri/mux.h"
#include "nri/plugin.h"
#include "nri/plugin_service.h"
#include "nri/ttrpc.h"
#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace topod::bench {
namespace {

using Clock = std::chrono::steady_clock;

class TrivialHandler final : public nri::EventHandler {
 public:
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override {
    return nri::CreateReply{nri::Adjustment{nri::LinuxResources{.cpuset_cpus = CpuSet{0, 1}}}, {}};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    return std::vector<nri::Update>{};
  }
};

struct Percentiles {
  double p50_us;
  double p99_us;
};

Percentiles percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))]; };
  return {at(0.50), at(0.99)};
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

nri::Pod benchPod() {
  nri::Pod pod;
  pod.id = "bench-pod";
  pod.uid = "bench-uid";
  pod.namespace_name = "default";
  pod.name = "bench";
  pod.cgroup_parent = "kubepods-podbench_uid.slice";
  pod.labels = {{"app", "bench"}, {"io.kubernetes.pod.name", "bench"}};
  return pod;
}

nri::Container benchContainer() {
  nri::Container container;
  container.id = "bench-ctr";
  container.pod_id = "bench-pod";
  container.name = "main";
  container.cgroups_path = "kubepods-podbench_uid.slice:cri-containerd:bench-ctr";
  container.resources.cpu_shares = 2048;
  container.resources.cpu_quota = 200000;
  container.resources.cpu_period = 100000;
  container.resources.memory_limit = int64_t{1} << 30;
  container.annotations = {{"io.kubernetes.cri.container-type", "container"}};
  return container;
}

// The bytes the simulator writes for one CreateContainer and the bytes the plugin answers.
std::pair<std::string, std::string> wireBytes() {
  nri::pb::CreateContainerRequest request;
  nri::podToProto(benchPod(), request.mutable_pod());
  nri::containerToProto(benchContainer(), request.mutable_container());
  auto request_message = nri::ttrpc::encodeRequest(
      1, {nri::kPluginServiceName, "CreateContainer", request.SerializeAsString(), 2000000000});
  nri::pb::CreateContainerResponse response;
  nri::adjustmentToProto(nri::Adjustment{nri::LinuxResources{.cpuset_cpus = CpuSet{0, 1}}},
                         response.mutable_adjust());
  auto response_message =
      nri::ttrpc::encodeResponse(1, {ErrorCode::Ok, {}, response.SerializeAsString()});
  std::string request_frames;
  std::string response_frames;
  nri::mux::appendMessageFrames(request_frames, 1, *request_message);
  nri::mux::appendMessageFrames(response_frames, 1, *response_message);
  return {request_frames, response_frames};
}

bool readExactly(int fd, char* buffer, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buffer + got, size - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

bool writeAll(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

std::vector<double> rawEcho(int iterations, const std::string& request, const std::string& response) {
  const std::string path = "/tmp/topod-nri-echo-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listener, 1) != 0) {
    std::perror("echo listener");
    std::exit(1);
  }
  std::thread server([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    std::string buffer(request.size(), '\0');
    while (readExactly(fd, buffer.data(), buffer.size()) && writeAll(fd, response)) {
    }
    ::close(fd);
  });
  const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("echo connect");
    std::exit(1);
  }
  std::string buffer(response.size(), '\0');
  std::vector<double> samples;
  for (int i = -iterations / 10; i < iterations; ++i) {  // the first tenth warms up
    const auto start = Clock::now();
    if (!writeAll(client, request) || !readExactly(client, buffer.data(), buffer.size())) {
      std::fprintf(stderr, "echo failed\n");
      std::exit(1);
    }
    if (i >= 0) samples.push_back(micros(Clock::now() - start));
  }
  ::close(client);
  server.join();
  ::close(listener);
  ::unlink(path.c_str());
  return samples;
}

std::vector<double> pluginRoundTrips(int iterations) {
  nri::sim::SimOptions options;
  options.socket_path = "/tmp/topod-nri-bench-" + std::to_string(::getpid()) + ".sock";
  options.personality = nri::sim::Personality::containerd17();
  nri::sim::RuntimeSim runtime(options);
  runtime.addPod(benchPod());
  if (!runtime.start().has_value()) std::exit(1);
  TrivialHandler handler;
  nri::UnixSocketConnector connector(options.socket_path);
  nri::PluginOptions plugin_options;
  plugin_options.name = "bench";
  plugin_options.idx = "10";
  nri::Plugin plugin(plugin_options, handler, connector);
  if (!plugin.start().has_value() || !runtime.waitForPlugin(std::chrono::seconds(10)).has_value()) {
    std::fprintf(stderr, "plugin did not register\n");
    std::exit(1);
  }
  const nri::Container container = benchContainer();
  std::vector<double> samples;
  for (int i = -iterations / 10; i < iterations; ++i) {
    const auto start = Clock::now();
    auto created = runtime.createContainer(container);
    const auto elapsed = Clock::now() - start;
    if (!created.has_value()) {
      std::fprintf(stderr, "CreateContainer failed: %s\n", created.error().toString().c_str());
      std::exit(1);
    }
    if (i >= 0) samples.push_back(micros(elapsed));
  }
  plugin.stop();
  runtime.stop();
  return samples;
}

}  // namespace
}  // namespace topod::bench

int main(int argc, char** argv) {
  using namespace topod::bench;
  const int iterations = argc > 1 ? std::max(100, std::atoi(argv[1])) : 20000;
  const auto [request, response] = wireBytes();
  const Percentiles echo = percentiles(rawEcho(iterations, request, response));
  const Percentiles plugin = percentiles(pluginRoundTrips(iterations));
  std::printf("NRI CreateContainer round trip, %d iterations, request %zu bytes, response %zu bytes\n",
              iterations, request.size(), response.size());
  std::printf("  raw unix echo      p50 %8.1f us   p99 %8.1f us\n", echo.p50_us, echo.p99_us);
  std::printf("  simulator->plugin  p50 %8.1f us   p99 %8.1f us\n", plugin.p50_us, plugin.p99_us);
  std::printf("  ratio              p50 %8.2fx     p99 %8.2fx   (goal: within 2x)\n",
              plugin.p50_us / echo.p50_us, plugin.p99_us / echo.p99_us);
  return 0;
}
