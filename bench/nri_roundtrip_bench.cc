// NRI CreateContainer round trip (trivial decision) against a raw unix-socket echo of the same
// bytes, measured in the same run, interleaved in rounds so that load changes on the machine hit
// every path alike. Three paths, all over a unix stream socket dialled by path:
//   echo:       RawCaller -> EchoServer: no protocol at all, just the bytes;
//   raw-plugin: RawCaller -> nri::Plugin: the same caller, the real plugin (decode, dispatch,
//               handler, encode) — its ratio to echo is the plugin-side overhead;
//   sim-plugin: RuntimeSim -> nri::Plugin: the end-to-end figure, which adds the
//               simulator's own protobuf work (building the request, decoding the answer).
// The baseline is built alike on purpose. RawCaller has the simulator's thread model (the
// caller sends, then sleeps on a condition variable; a reader thread blocked in read() on a
// 64 KiB buffer wakes it). EchoServer has the plugin's I/O-thread model (one thread in poll()
// on the socket and an eventfd, 64 KiB reads, one send() per answer). The bytes are the real
// exchange: the simulator's own request and the plugin's own answer, and the bench checks the
// counts on every path (it stops if they differ).
// By default every thread runs on one CPU (the one the bench starts on; threads inherit the
// affinity): a wake-up is then a same-CPU switch on every path. Unpinned, the scheduler decides
// per path whether the ping-pong threads share a CPU, and on the shared 2-vCPU VM a cross-CPU
// wake-up costs tens of microseconds, more than the protocol work being measured — which is
// how an earlier version of this bench showed the echo slower than the full NRI path.
//   nri_roundtrip_bench [--unpinned] [samples per path per round] [rounds]
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nri/convert.h"
#include "nri/mux.h"
#include "nri/plugin.h"
#include "nri/plugin_service.h"
#include "nri/ttrpc.h"
#include "tests/nri/raw_runtime.h"
#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace topod::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadChunk = 64 * 1024;                  // what nri::Connection reads per call
constexpr auto kAnswerTimeout = std::chrono::seconds(2);  // the runtime's request timeout

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "nri_roundtrip_bench: %s\n", why.c_str());
  std::exit(1);
}

const nri::CreateReply& trivialReply() {
  static const nri::CreateReply reply{nri::Adjustment{nri::LinuxResources{.cpuset_cpus = CpuSet{0, 1}}}, {}};
  return reply;
}

class TrivialHandler final : public nri::EventHandler {
 public:
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override { return trivialReply(); }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    return std::vector<nri::Update>{};
  }
};

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

// The frames of one exchange as RuntimeSim and the plugin write them: the simulator sends the
// container in state Created and the time left of its 2 s request timeout (same varint size).
struct Exchange {
  std::string request;
  std::string response;
};

Exchange wireBytes() {
  nri::pb::CreateContainerRequest request;
  nri::podToProto(benchPod(), request.mutable_pod());
  nri::Container created = benchContainer();
  created.state = nri::ContainerState::Created;
  nri::containerToProto(created, request.mutable_container());
  auto request_message = nri::ttrpc::encodeRequest(
      1, {nri::kPluginServiceName, "CreateContainer", request.SerializeAsString(), 1999999999});
  nri::pb::CreateContainerResponse response;
  nri::adjustmentToProto(trivialReply().adjustment, response.mutable_adjust());
  auto response_message = nri::ttrpc::encodeResponse(1, {ErrorCode::Ok, {}, response.SerializeAsString()});
  if (!request_message.has_value() || !response_message.has_value()) die("encoding failed");
  Exchange out;
  nri::mux::appendMessageFrames(out.request, nri::mux::kPluginServiceConn, *request_message);
  nri::mux::appendMessageFrames(out.response, nri::mux::kPluginServiceConn, *response_message);
  if (out.request.size() > nri::mux::kFirstFrameMax) die("request no longer fits one frame");
  return out;
}

// The ttrpc stream id sits after the mux header (8) and the ttrpc length (4).
void setStreamId(std::string& frames, uint32_t stream) {
  for (int i = 0; i < 4; ++i) frames[12 + i] = static_cast<char>(stream >> (24 - 8 * i));
}

nri::UniqueFd listenOn(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ::unlink(path.c_str());
  nri::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    die("cannot listen on " + path);
  }
  return fd;
}

// The runtime's side, with RuntimeSim's thread model and no protocol work.
class RawCaller {
 public:
  RawCaller(int fd, size_t response_size) : fd_(fd), response_size_(response_size) {
    reader_ = std::thread([this] { readLoop(); });
  }
  ~RawCaller() {
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
  }

  // Sends `request` and waits until a whole answer's worth of bytes is back.
  void roundTrip(const std::string& request) {
    uint64_t target = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      target = (++calls_) * response_size_;
    }
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      die("send failed");
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kAnswerTimeout, [&] { return received_ >= target || closed_; }) || closed_) {
      die("no complete answer: the peer's answer is smaller than the exchange's or it went away");
    }
  }
  // True when exactly one answer of the expected size came back per call.
  bool bytesMatch() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_ == calls_ * response_size_;
  }

 private:
  void readLoop() {
    std::vector<char> buffer(kReadChunk);
    while (true) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      std::lock_guard<std::mutex> lock(mu_);
      if (n <= 0) {
        closed_ = true;
        cv_.notify_all();
        return;
      }
      received_ += static_cast<uint64_t>(n);
      cv_.notify_all();
    }
  }

  const int fd_;
  const size_t response_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t calls_ = 0;
  uint64_t received_ = 0;
  bool closed_ = false;
  std::thread reader_;
};

// Answers every whole request's worth of bytes with the response bytes, from one thread built
// like the plugin's I/O thread.
class EchoServer {
 public:
  EchoServer(nri::UniqueFd fd, Exchange exchange)
      : fd_(std::move(fd)), exchange_(std::move(exchange)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }

 private:
  void run() {
    std::vector<char> buffer(kReadChunk);
    size_t pending = 0;
    while (true) {
      pollfd pfds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      if (::poll(pfds, 2, -1) < 0 || pfds[1].revents != 0) return;
      const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n <= 0) return;
      for (pending += static_cast<size_t>(n); pending >= exchange_.request.size();
           pending -= exchange_.request.size()) {
        const std::string& out = exchange_.response;
        if (::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return;
      }
    }
  }

  nri::UniqueFd fd_;
  const Exchange exchange_;
  nri::UniqueFd wake_;
  std::thread thread_;
};

nri::UniqueFd dial(const std::string& path) {
  auto fd = nri::UnixSocketConnector(path).connect();
  if (!fd.has_value()) die(fd.error().toString());
  return std::move(*fd);
}

nri::PluginOptions benchPluginOptions() {
  nri::PluginOptions options;
  options.name = "bench";
  options.idx = "10";
  options.on_error = [](const Error& error) { die("plugin error: " + error.toString()); };
  return options;
}

struct Path {
  const char* name;
  std::function<void()> roundTrip;
  std::vector<double> samples;
  std::vector<double> round_p50;
};

double quantile(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))];
}

// Pins the calling thread, and so every thread it starts later, to the CPU it runs on now.
int pinToCurrentCpu() {
  const int cpu = ::sched_getcpu();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (cpu < 0 || ::sched_setaffinity(0, sizeof(set), &set) != 0) die("cannot pin to a CPU");
  return cpu;
}

int run(int per_round, int rounds, bool pinned) {
  const int cpu = pinned ? pinToCurrentCpu() : -1;
  const std::string tag = std::to_string(::getpid());
  const Exchange exchange = wireBytes();

  // echo
  nri::UniqueFd echo_listener = listenOn("/tmp/topod-bench-echo-" + tag + ".sock");
  nri::UniqueFd echo_client = dial("/tmp/topod-bench-echo-" + tag + ".sock");
  EchoServer echo_server(nri::UniqueFd(::accept4(echo_listener.get(), nullptr, nullptr, SOCK_CLOEXEC)), exchange);
  RawCaller echo_caller(echo_client.get(), exchange.response.size());

  // raw caller -> plugin, after a scripted handshake (streams 1 and 3 are Configure and Synchronize)
  TrivialHandler handler;
  const std::string raw_path = "/tmp/topod-bench-raw-" + tag + ".sock";
  nri::UniqueFd raw_listener = listenOn(raw_path);
  nri::UnixSocketConnector raw_connector(raw_path);
  nri::Plugin raw_plugin(benchPluginOptions(), handler, raw_connector);
  if (!raw_plugin.start().has_value()) die("plugin did not start");
  nri::testing::RawRuntime raw_runtime(nri::UniqueFd(::accept4(raw_listener.get(), nullptr, nullptr, SOCK_CLOEXEC)));
  if (!raw_runtime.handshake()) die("handshake with the plugin failed");
  RawCaller raw_caller(raw_runtime.connection().fd(), exchange.response.size());

  // simulator -> plugin
  nri::sim::SimOptions sim_options;
  sim_options.socket_path = "/tmp/topod-bench-sim-" + tag + ".sock";
  sim_options.personality = nri::sim::Personality::containerd17();
  nri::sim::RuntimeSim sim(sim_options);
  sim.addPod(benchPod());
  if (!sim.start().has_value()) die("simulator did not start");
  nri::UnixSocketConnector sim_connector(sim_options.socket_path);
  nri::Plugin sim_plugin(benchPluginOptions(), handler, sim_connector);
  if (!sim_plugin.start().has_value() || !sim.waitForPlugin(std::chrono::seconds(10)).has_value()) {
    die("plugin did not register with the simulator");
  }
  const nri::Container container = benchContainer();

  std::string request = exchange.request;
  uint32_t raw_stream = 5;
  std::vector<Path> paths;
  paths.push_back({"raw unix echo", [&] { echo_caller.roundTrip(request); }, {}, {}});
  paths.push_back({"raw caller->plugin",
                   [&] {
                     setStreamId(request, raw_stream);
                     raw_stream += 2;  // the plugin wants odd, increasing ids
                     raw_caller.roundTrip(request);
                   },
                   {},
                   {}});
  paths.push_back({"simulator->plugin",
                   [&] {
                     if (!sim.createContainer(container).has_value()) die("CreateContainer failed");
                   },
                   {},
                   {}});

  for (Path& path : paths) {
    for (int i = 0; i < per_round / 10; ++i) path.roundTrip();  // warm-up
  }
  uint64_t sim_sent = 0;
  uint64_t sim_received = 0;
  uint64_t sim_calls = 0;
  for (int round = 0; round < rounds; ++round) {
    for (Path& path : paths) {
      const bool is_sim = &path == &paths.back();
      const nri::sim::Traffic before = sim.traffic();
      std::vector<double> samples;
      samples.reserve(static_cast<size_t>(per_round));
      for (int i = 0; i < per_round; ++i) {
        const auto start = Clock::now();
        path.roundTrip();
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      }
      if (is_sim) {
        const nri::sim::Traffic after = sim.traffic();
        sim_sent += after.sent - before.sent;
        sim_received += after.received - before.received;
        sim_calls += static_cast<uint64_t>(per_round);
      }
      path.round_p50.push_back(quantile(samples, 0.5));
      path.samples.insert(path.samples.end(), samples.begin(), samples.end());
    }
  }
  if (!echo_caller.bytesMatch() || !raw_caller.bytesMatch()) die("a path answered with other byte counts");
  if (sim_sent != sim_calls * exchange.request.size() || sim_received != sim_calls * exchange.response.size()) {
    die("the simulator path moved " + std::to_string(sim_sent / sim_calls) + "/" +
        std::to_string(sim_received / sim_calls) + " bytes per round trip, the echo " +
        std::to_string(exchange.request.size()) + "/" + std::to_string(exchange.response.size()));
  }

  std::printf(
      "NRI CreateContainer round trip: request %zu bytes, response %zu bytes per round trip on "
      "every path (checked)\n%d rounds x %d samples per path, interleaved; %s\n",
      exchange.request.size(), exchange.response.size(), rounds, per_round,
      pinned ? ("all threads on CPU " + std::to_string(cpu)).c_str() : "unpinned");
  std::printf("  %-20s %9s %9s   %s\n", "path", "p50 us", "p99 us", "p50 of each round (us)");
  for (const Path& path : paths) {
    std::string per_round_text;
    for (double p50 : path.round_p50) {
      char cell[16];
      std::snprintf(cell, sizeof(cell), " %.1f", p50);
      per_round_text += cell;
    }
    std::printf("  %-20s %9.1f %9.1f  %s\n", path.name, quantile(path.samples, 0.5), quantile(path.samples, 0.99),
                per_round_text.c_str());
  }
  auto ratio = [&](size_t a, double q) { return quantile(paths[a].samples, q) / quantile(paths[0].samples, q); };
  std::printf("  plugin-side overhead (raw caller->plugin / echo): p50 %.2fx  p99 %.2fx  (goal: within 2x)\n",
              ratio(1, 0.5), ratio(1, 0.99));
  std::printf("  end to end (simulator->plugin / echo):            p50 %.2fx  p99 %.2fx\n", ratio(2, 0.5),
              ratio(2, 0.99));
  raw_plugin.stop();
  sim_plugin.stop();
  sim.stop();
  ::unlink(("/tmp/topod-bench-echo-" + tag + ".sock").c_str());
  ::unlink(raw_path.c_str());
  return 0;
}

}  // namespace
}  // namespace topod::bench

int main(int argc, char** argv) {
  bool pinned = true;
  std::vector<int> numbers;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--unpinned") {
      pinned = false;
    } else {
      numbers.push_back(std::atoi(argv[i]));
    }
  }
  const int per_round = numbers.size() > 0 ? std::max(100, numbers[0]) : 4000;
  const int rounds = numbers.size() > 1 ? std::max(1, numbers[1]) : 5;
  return topod::bench::run(per_round, rounds, pinned);
}
