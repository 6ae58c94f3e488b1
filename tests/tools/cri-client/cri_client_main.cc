// cri-client: a small CRI (runtime.v1) client for the end-to-end tests, shaped like the kubelet.
// One operation per invocation; IDs go to stdout, errors (with the runtime's gRPC status) to
// stderr and exit status 1. Usage: cri-client --help.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cri/proto/cri_api.grpc.pb.h"
#include "cri/runtime_client.h"
#include "tests/tools/command_line.h"
#include "tests/tools/cri-client/kubelet_shape.h"
#include "tests/tools/cri-client/pod_cgroups.h"

namespace topod::e2e {
namespace {

constexpr const char* kUsage = R"(usage: cri-client [--socket PATH] [--state-dir DIR] [--timeout SECONDS]
                  [--cgroup-driver cgroupfs|systemd] COMMAND ...

Pods are host-network and shaped like the kubelet makes them with the given cgroup driver
(default cgroupfs; systemd needs cgroup v2 and systemd as PID 1); the QoS class follows from
the pod's totals, and the pod cgroup is created with the kubelet's values first (cgroup v1 or v2,
as this machine mounts /sys/fs/cgroup; systemd slices over D-Bus with the systemd driver).
  version
  run-pod --name N --uid U [--namespace NS] [--cpu-request Q --cpu-limit Q --memory-request Q --memory-limit Q]
        [--annotation KEY=VALUE ...]  (the pod's annotations, repeatable, as NRI shows them to plugins)
  stop-pod POD_ID | rm-pod POD_ID | pod-status POD_ID | pods
  create --pod POD_ID --name N [--attempt K] [--image REF] [--cpu-request Q ...] [-- COMMAND ARGS...]
        [--mount HOST:CONTAINER[:ro] ...] [--capabilities CAP,CAP | --capabilities none] [--readonly-rootfs]
        (--attempt: the kubelet's restart count; a restarted container is a new one, same name;
        --mount: a hostPath volume, repeatable; --capabilities: drop all, add these, as a pod's
        securityContext.capabilities {drop: [ALL], add: [...]} does)
  start ID | stop ID [--grace SECONDS] | rm ID | status ID | containers [--pod POD_ID]
  update ID [--cpu-request Q --cpu-limit Q --memory-request Q --memory-limit Q]
        (an in-place resize: the kubelet's values for the new resources, QoS kept)
  checkpoint ID --location FILE.tar
        (CRI CheckpointContainer through topod's own client, cri/runtime_client.h, with --timeout;
        on failure prints "REASON: message", the reason topod reports, e.g. CheckpointUnsupported)
Quantities: CPU "500m" or "1"; memory "64Mi", "1G" or bytes. --state-dir keeps each pod's
sandbox config (CreateContainer needs it) and the container logs.
)";

constexpr const char* kDefaultImage = "docker.io/topod-e2e/busybox:1";
constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

using Args = tools::CommandLine;
using tools::option;

Result<Args> parseArgs(int argc, char** argv) {
  static const tools::CommandLineSpec kSpec{
      .options = {"socket", "state-dir", "timeout", "name", "uid", "namespace", "pod", "image", "grace", "attempt",
                  "cpu-request", "cpu-limit", "memory-request", "memory-limit", "capabilities", "location",
                  "cgroup-driver"},
      .repeated = {"annotation", "mount"},
      .flags = {"readonly-rootfs"}};
  auto args = tools::parseCommandLine(argc, argv, kSpec);
  if (!args) return args.error();
  for (const std::string& value : args->all("annotation")) {
    if (value.find('=') == std::string::npos || value.front() == '=') {
      return Error::invalidArgument("--annotation " + value + ": want KEY=VALUE");
    }
  }
  return args;
}

Result<int64_t> parseSeconds(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    return Error::invalidArgument("\"" + text + "\" is not a whole number of seconds");
  }
  return value;
}

Result<ResourceAsk> askFrom(const Args& args) {
  ResourceAsk ask;
  struct Field {
    const char* name;
    bool is_cpu;
    int64_t* target;
  };
  const Field fields[] = {{"cpu-request", true, &ask.cpu_request_milli},
                          {"cpu-limit", true, &ask.cpu_limit_milli},
                          {"memory-request", false, &ask.memory_request_bytes},
                          {"memory-limit", false, &ask.memory_limit_bytes}};
  for (const Field& field : fields) {
    const std::string text = option(args, field.name);
    if (text.empty()) continue;
    auto value = field.is_cpu ? parseCpuMilli(text) : parseBytes(text);
    if (!value) return value.error().withContext(std::string("--") + field.name);
    *field.target = *value;
  }
  return ask;
}

Result<int64_t> machineMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  return Error::notFound("MemTotal in /proc/meminfo");
}

void setResources(runtime::v1::LinuxContainerResources* out, const LinuxResourceValues& values) {
  out->set_cpu_period(values.cpu_period);
  out->set_cpu_quota(values.cpu_quota);
  out->set_cpu_shares(values.cpu_shares);
  out->set_memory_limit_in_bytes(values.memory_limit_bytes);
  out->set_oom_score_adj(values.oom_score_adj);
}

class Client {
 public:
  Client(const std::string& socket, std::chrono::seconds timeout, std::string state_dir, CgroupDriver driver)
      : stub_(runtime::v1::RuntimeService::NewStub(
            grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))),
        timeout_(timeout),
        state_dir_(std::move(state_dir)),
        driver_(driver) {}

  int run(const Args& args);

 private:
  // Runs one unary RPC with the deadline; on failure prints the runtime's status and returns false.
  template <typename Request, typename Response, typename Method>
  bool call(const char* name, Method method, const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    const grpc::Status status = (stub_.get()->*method)(&context, request, response);
    if (!status.ok()) {
      std::cerr << "cri-client: " << name << " failed: code " << status.error_code() << ": " << status.error_message()
                << "\n";
      return false;
    }
    return true;
  }

  std::string sandboxFile(const std::string& pod_id) const { return state_dir_ + "/" + pod_id + ".sandbox"; }
  Result<runtime::v1::PodSandboxConfig> loadSandbox(const std::string& pod_id) const;
  Result<std::string> podOfContainer(const std::string& id);

  int runPod(const Args& args);
  int removePod(const std::string& pod_id);
  int create(const Args& args);
  int update(const Args& args);
  int status(const std::string& id);
  int listPods();
  int listContainers(const Args& args);

  // The pod cgroups of this machine's layout and the driver, made on first use (the systemd
  // driver connects to the system bus).
  Result<PodCgroups*> podCgroups();

  std::unique_ptr<runtime::v1::RuntimeService::Stub> stub_;
  std::chrono::seconds timeout_;
  std::string state_dir_;
  CgroupDriver driver_;
  std::unique_ptr<PodCgroups> pod_cgroups_;
};

Result<PodCgroups*> Client::podCgroups() {
  if (!pod_cgroups_) {
    auto made = makePodCgroups(driver_, kCgroupRoot);
    if (!made) return made.error();
    pod_cgroups_ = std::move(*made);
  }
  return pod_cgroups_.get();
}

Result<runtime::v1::PodSandboxConfig> Client::loadSandbox(const std::string& pod_id) const {
  std::ifstream in(sandboxFile(pod_id), std::ios::binary);
  runtime::v1::PodSandboxConfig config;
  if (!in || !config.ParseFromIstream(&in)) {
    return Error::notFound("sandbox config of pod " + pod_id + " in --state-dir " + state_dir_ +
                           " (pods must be made by run-pod with the same --state-dir)");
  }
  return config;
}

Result<std::string> Client::podOfContainer(const std::string& id) {
  runtime::v1::ListContainersRequest request;
  request.mutable_filter()->set_id(id);
  runtime::v1::ListContainersResponse response;
  if (!call("ListContainers", &runtime::v1::RuntimeService::Stub::ListContainers, request, &response)) {
    return Error::unavailable("listing container " + id);
  }
  if (response.containers_size() != 1) return Error::notFound("container " + id);
  return response.containers(0).pod_sandbox_id();
}

int Client::runPod(const Args& args) {
  const std::string name = option(args, "name");
  const std::string uid = option(args, "uid");
  const std::string ns = option(args, "namespace", "default");
  if (name.empty() || uid.empty() || state_dir_.empty()) {
    std::cerr << "cri-client: run-pod needs --name, --uid and --state-dir\n";
    return 1;
  }
  auto ask = askFrom(args);
  if (!ask) {
    std::cerr << "cri-client: " << ask.error().toString() << "\n";
    return 1;
  }
  const QosClass qos = qosOf(*ask);
  const std::string parent = podCgroupParent(qos, uid, driver_);
  auto cgroups = podCgroups();
  if (!cgroups) {
    std::cerr << "cri-client: " << cgroups.error().toString() << "\n";
    return 1;
  }
  if (Status made = (*cgroups)->create(parent, podValues(qos, *ask)); !made) {
    std::cerr << "cri-client: " << made.error().toString() << "\n";
    return 1;
  }
  runtime::v1::RunPodSandboxRequest request;
  runtime::v1::PodSandboxConfig* config = request.mutable_config();
  config->mutable_metadata()->set_name(name);
  config->mutable_metadata()->set_uid(uid);
  config->mutable_metadata()->set_namespace_(ns);
  config->set_log_directory(state_dir_ + "/logs/" + ns + "_" + name + "_" + uid);
  (*config->mutable_labels())["io.kubernetes.pod.name"] = name;
  (*config->mutable_labels())["io.kubernetes.pod.namespace"] = ns;
  (*config->mutable_labels())["io.kubernetes.pod.uid"] = uid;
  (*config->mutable_annotations())["kubernetes.io/config.source"] = "api";
  for (const std::string& annotation : args.all("annotation")) {
    const std::size_t eq = annotation.find('=');
    (*config->mutable_annotations())[annotation.substr(0, eq)] = annotation.substr(eq + 1);
  }
  runtime::v1::LinuxPodSandboxConfig* linux = config->mutable_linux();
  linux->set_cgroup_parent(parent);
  runtime::v1::NamespaceOption* ns_options = linux->mutable_security_context()->mutable_namespace_options();
  ns_options->set_network(runtime::v1::NODE);
  ns_options->set_pid(runtime::v1::CONTAINER);
  ns_options->set_ipc(runtime::v1::POD);
  setResources(linux->mutable_resources(), podValues(qos, *ask));
  runtime::v1::RunPodSandboxResponse response;
  if (!call("RunPodSandbox", &runtime::v1::RuntimeService::Stub::RunPodSandbox, request, &response)) return 1;
  std::ofstream out(sandboxFile(response.pod_sandbox_id()), std::ios::binary);
  if (!config->SerializeToOstream(&out)) {
    std::cerr << "cri-client: writing " << sandboxFile(response.pod_sandbox_id()) << " failed\n";
    return 1;
  }
  std::cout << response.pod_sandbox_id() << "\n";
  return 0;
}

int Client::removePod(const std::string& pod_id) {
  runtime::v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(pod_id);
  runtime::v1::RemovePodSandboxResponse response;
  if (!call("RemovePodSandbox", &runtime::v1::RuntimeService::Stub::RemovePodSandbox, request, &response)) return 1;
  // Like the kubelet: the pod cgroup goes once the runtime has removed the sandbox.
  if (auto config = loadSandbox(pod_id)) {
    auto cgroups = podCgroups();
    if (!cgroups) {
      std::cerr << "cri-client: " << cgroups.error().toString() << "\n";
      return 1;
    }
    if (Status removed = (*cgroups)->remove(config->linux().cgroup_parent()); !removed) {
      std::cerr << "cri-client: " << removed.error().toString() << "\n";
      return 1;
    }
    std::remove(sandboxFile(pod_id).c_str());
  }
  return 0;
}

int Client::create(const Args& args) {
  const std::string pod_id = option(args, "pod");
  const std::string name = option(args, "name");
  auto sandbox = loadSandbox(pod_id);
  auto ask = askFrom(args);
  auto memory = machineMemoryBytes();
  for (const Error* error :
       {sandbox ? nullptr : &sandbox.error(), ask ? nullptr : &ask.error(), memory ? nullptr : &memory.error()}) {
    if (error != nullptr) {
      std::cerr << "cri-client: " << error->toString() << "\n";
      return 1;
    }
  }
  if (name.empty()) {
    std::cerr << "cri-client: create needs --name\n";
    return 1;
  }
  const QosClass qos = qosFromCgroupParent(sandbox->linux().cgroup_parent());
  runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_sandbox_config() = *sandbox;
  runtime::v1::ContainerConfig* config = request.mutable_config();
  config->mutable_metadata()->set_name(name);
  const std::string attempt = option(args, "attempt", "0");
  if (attempt.empty() || attempt.size() > 6 || attempt.find_first_not_of("0123456789") != std::string::npos) {
    std::cerr << "cri-client: --attempt: \"" << attempt << "\" is not a small non-negative number\n";
    return 1;
  }
  config->mutable_metadata()->set_attempt(static_cast<uint32_t>(std::stoul(attempt)));
  config->mutable_image()->set_image(option(args, "image", kDefaultImage));
  if (args.trailing.empty()) {
    config->add_command("/bin/sleep");
    config->add_command("2147483647");
  } else {
    for (const std::string& word : args.trailing) config->add_command(word);
  }
  config->set_log_path(name + "/" + attempt + ".log");
  for (const char* key : {"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid"}) {
    (*config->mutable_labels())[key] = sandbox->labels().at(key);
  }
  (*config->mutable_labels())["io.kubernetes.container.name"] = name;
  (*config->mutable_annotations())["io.kubernetes.container.restartCount"] = attempt;
  runtime::v1::LinuxContainerConfig* linux = config->mutable_linux();
  setResources(linux->mutable_resources(), containerValues(qos, *ask, *memory));
  runtime::v1::LinuxContainerSecurityContext* security = linux->mutable_security_context();
  runtime::v1::NamespaceOption* ns_options = security->mutable_namespace_options();
  ns_options->set_network(runtime::v1::NODE);
  ns_options->set_pid(runtime::v1::CONTAINER);
  ns_options->set_ipc(runtime::v1::POD);
  security->set_readonly_rootfs(args.flag("readonly-rootfs"));
  if (const std::string caps = option(args, "capabilities"); !caps.empty()) {
    security->mutable_capabilities()->add_drop_capabilities("ALL");
    std::string_view rest = caps == "none" ? std::string_view() : std::string_view(caps);
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view cap = rest.substr(0, comma);
      if (cap.empty()) {
        std::cerr << "cri-client: --capabilities: empty name in \"" << caps << "\"\n";
        return 1;
      }
      security->mutable_capabilities()->add_add_capabilities(std::string(cap));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  for (const std::string& spec : args.all("mount")) {
    // HOST:CONTAINER or HOST:CONTAINER:ro; both absolute.
    const size_t first = spec.find(':');
    const size_t second = first == std::string::npos ? std::string::npos : spec.find(':', first + 1);
    const std::string host = spec.substr(0, first);
    const std::string target = first == std::string::npos
                                   ? ""
                                   : spec.substr(first + 1, second == std::string::npos ? second : second - first - 1);
    const std::string mode = second == std::string::npos ? "" : spec.substr(second + 1);
    if (!host.starts_with("/") || !target.starts_with("/") || (!mode.empty() && mode != "ro")) {
      std::cerr << "cri-client: --mount \"" << spec << "\": expected HOST:CONTAINER[:ro], both absolute\n";
      return 1;
    }
    runtime::v1::Mount* mount = config->add_mounts();
    mount->set_host_path(host);
    mount->set_container_path(target);
    mount->set_readonly(mode == "ro");
  }
  runtime::v1::CreateContainerResponse response;
  if (!call("CreateContainer", &runtime::v1::RuntimeService::Stub::CreateContainer, request, &response)) return 1;
  std::cout << response.container_id() << "\n";
  return 0;
}

int Client::update(const Args& args) {
  if (args.positional.size() != 1) {
    std::cerr << "cri-client: update needs a container ID\n";
    return 1;
  }
  const std::string& id = args.positional[0];
  auto pod_id = podOfContainer(id);
  if (!pod_id) {
    std::cerr << "cri-client: " << pod_id.error().toString() << "\n";
    return 1;
  }
  auto sandbox = loadSandbox(*pod_id);
  auto ask = askFrom(args);
  auto memory = machineMemoryBytes();
  for (const Error* error :
       {sandbox ? nullptr : &sandbox.error(), ask ? nullptr : &ask.error(), memory ? nullptr : &memory.error()}) {
    if (error != nullptr) {
      std::cerr << "cri-client: " << error->toString() << "\n";
      return 1;
    }
  }
  // An in-place resize never changes the QoS class (the API server forbids it).
  const QosClass qos = qosFromCgroupParent(sandbox->linux().cgroup_parent());
  runtime::v1::UpdateContainerResourcesRequest request;
  request.set_container_id(id);
  setResources(request.mutable_linux(), containerValues(qos, *ask, *memory));
  // Our pods have one container, so the pod's new totals are this container's ask.
  const std::string& parent = sandbox->linux().cgroup_parent();
  const LinuxResourceValues pod_values = podValues(qos, *ask);
  auto cgroups = podCgroups();
  if (!cgroups) {
    std::cerr << "cri-client: " << cgroups.error().toString() << "\n";
    return 1;
  }
  if (Status grown = (*cgroups)->resize(parent, pod_values, false); !grown) {
    std::cerr << "cri-client: " << grown.error().toString() << "\n";
    return 1;
  }
  runtime::v1::UpdateContainerResourcesResponse response;
  if (!call("UpdateContainerResources", &runtime::v1::RuntimeService::Stub::UpdateContainerResources, request,
            &response)) {
    return 1;
  }
  if (Status shrunk = (*cgroups)->resize(parent, pod_values, true); !shrunk) {
    std::cerr << "cri-client: " << shrunk.error().toString() << "\n";
    return 1;
  }
  return 0;
}

int Client::status(const std::string& id) {
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  runtime::v1::ContainerStatusResponse response;
  if (!call("ContainerStatus", &runtime::v1::RuntimeService::Stub::ContainerStatus, request, &response)) return 1;
  const auto& resources = response.status().resources().linux();
  std::cout << "id=" << response.status().id() << " name=" << response.status().metadata().name()
            << " state=" << runtime::v1::ContainerState_Name(response.status().state())
            << " exit_code=" << response.status().exit_code() << " cpu_shares=" << resources.cpu_shares()
            << " cpu_quota=" << resources.cpu_quota() << " cpuset_cpus=" << resources.cpuset_cpus()
            << " memory_limit=" << resources.memory_limit_in_bytes() << "\n";
  return 0;
}

int Client::listPods() {
  runtime::v1::ListPodSandboxResponse response;
  if (!call("ListPodSandbox", &runtime::v1::RuntimeService::Stub::ListPodSandbox, runtime::v1::ListPodSandboxRequest{},
            &response)) {
    return 1;
  }
  for (const auto& pod : response.items()) {
    std::cout << pod.id() << " " << pod.metadata().name() << " " << runtime::v1::PodSandboxState_Name(pod.state())
              << "\n";
  }
  return 0;
}

int Client::listContainers(const Args& args) {
  runtime::v1::ListContainersRequest request;
  request.mutable_filter()->set_pod_sandbox_id(option(args, "pod"));
  runtime::v1::ListContainersResponse response;
  if (!call("ListContainers", &runtime::v1::RuntimeService::Stub::ListContainers, request, &response)) return 1;
  for (const auto& container : response.containers()) {
    std::cout << container.id() << " " << container.pod_sandbox_id() << " " << container.metadata().name() << " "
              << runtime::v1::ContainerState_Name(container.state()) << "\n";
  }
  return 0;
}

int Client::run(const Args& args) {
  const std::string& cmd = args.command;
  const std::string id = args.positional.empty() ? "" : args.positional[0];
  const bool needs_id = cmd == "stop-pod" || cmd == "rm-pod" || cmd == "pod-status" || cmd == "start" ||
                        cmd == "stop" || cmd == "rm" || cmd == "status";
  if (needs_id && id.empty()) {
    std::cerr << "cri-client: " << cmd << " needs an ID\n";
    return 1;
  }
  using Stub = runtime::v1::RuntimeService::Stub;
  if (cmd == "version") {
    runtime::v1::VersionResponse response;
    if (!call("Version", &Stub::Version, runtime::v1::VersionRequest{}, &response)) return 1;
    std::cout << response.runtime_name() << " " << response.runtime_version() << " " << response.runtime_api_version()
              << "\n";
    return 0;
  }
  if (cmd == "run-pod") return runPod(args);
  if (cmd == "stop-pod") {
    runtime::v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    runtime::v1::StopPodSandboxResponse response;
    return call("StopPodSandbox", &Stub::StopPodSandbox, request, &response) ? 0 : 1;
  }
  if (cmd == "rm-pod") return removePod(id);
  if (cmd == "pod-status") {
    runtime::v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    runtime::v1::PodSandboxStatusResponse response;
    if (!call("PodSandboxStatus", &Stub::PodSandboxStatus, request, &response)) return 1;
    std::cout << "id=" << response.status().id()
              << " state=" << runtime::v1::PodSandboxState_Name(response.status().state()) << "\n";
    return 0;
  }
  if (cmd == "pods") return listPods();
  if (cmd == "create") return create(args);
  if (cmd == "start") {
    runtime::v1::StartContainerRequest request;
    request.set_container_id(id);
    runtime::v1::StartContainerResponse response;
    return call("StartContainer", &Stub::StartContainer, request, &response) ? 0 : 1;
  }
  if (cmd == "stop") {
    runtime::v1::StopContainerRequest request;
    request.set_container_id(id);
    auto grace = parseSeconds(option(args, "grace", "0"));
    if (!grace) {
      std::cerr << "cri-client: --grace: " << grace.error().message() << "\n";
      return 1;
    }
    request.set_timeout(*grace);
    runtime::v1::StopContainerResponse response;
    return call("StopContainer", &Stub::StopContainer, request, &response) ? 0 : 1;
  }
  if (cmd == "rm") {
    runtime::v1::RemoveContainerRequest request;
    request.set_container_id(id);
    runtime::v1::RemoveContainerResponse response;
    return call("RemoveContainer", &Stub::RemoveContainer, request, &response) ? 0 : 1;
  }
  if (cmd == "status") return status(id);
  if (cmd == "containers") return listContainers(args);
  if (cmd == "update") return update(args);
  std::cerr << "cri-client: unknown command \"" << cmd << "\"\n" << kUsage;
  return 1;
}

// Through topod's own CRI client, so the end-to-end run exercises the code eviction mode criu uses.
int checkpoint(const Args& args, const std::string& socket, std::chrono::seconds timeout) {
  const std::string id = args.positional.empty() ? "" : args.positional[0];
  const std::string location = option(args, "location");
  if (id.empty() || location.empty()) {
    std::cerr << "cri-client: checkpoint needs an ID and --location\n";
    return 2;
  }
  auto client = cri::makeGrpcRuntimeClient(socket);
  if (!client) {
    std::cerr << "cri-client: " << client.error().toString() << "\n";
    return 2;
  }
  auto version = (*client)->version(timeout);
  if (!version) {
    std::cerr << version.error().reason() << ": " << version.error().toString() << "\n";
    return 1;
  }
  std::cout << "runtime " << version->runtime_name << " " << version->runtime_version << "\n";
  auto done = (*client)->checkpointContainer(id, location, timeout);
  if (!done) {
    std::cerr << done.error().reason() << ": " << done.error().toString() << "\n";
    return 1;
  }
  std::cout << "checkpointed " << id << " -> " << location << "\n";
  return 0;
}

}  // namespace
}  // namespace topod::e2e

int main(int argc, char** argv) {
  auto args = topod::e2e::parseArgs(argc, argv);
  if (!args) {
    std::cerr << "cri-client: " << args.error().message() << "\n" << topod::e2e::kUsage;
    return 2;
  }
  if (args->command == "help") {
    std::cout << topod::e2e::kUsage;
    return 0;
  }
  const std::string socket = topod::e2e::option(*args, "socket", "/run/containerd/containerd.sock");
  const auto timeout_seconds = topod::e2e::parseSeconds(topod::e2e::option(*args, "timeout", "30"));
  if (!timeout_seconds) {
    std::cerr << "cri-client: --timeout: " << timeout_seconds.error().message() << "\n";
    return 2;
  }
  if (args->command == "checkpoint") {
    return topod::e2e::checkpoint(*args, socket, std::chrono::seconds(*timeout_seconds));
  }
  const auto driver = topod::e2e::parseCgroupDriver(topod::e2e::option(*args, "cgroup-driver", "cgroupfs"));
  if (!driver) {
    std::cerr << "cri-client: --cgroup-driver: " << driver.error().message() << "\n";
    return 2;
  }
  topod::e2e::Client client(socket, std::chrono::seconds(*timeout_seconds), topod::e2e::option(*args, "state-dir"),
                            *driver);
  return client.run(*args);
}
