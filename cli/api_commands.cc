// `topod status`, `topod allocations`, `topod explain`: ask the running agent through its local
// API (api/client.h) and print the answer (api/format.h).
#include <cstdio>
#include <string>

#include "api/client.h"
#include "api/format.h"
#include "cli/commands.h"
#include "common/file_io.h"
#include "common/quantity.h"
#include "config/config.h"
#include "simulator/simulator_trace.h"

namespace topod::agent {

namespace {

// What-if files are one JSON line; anything near this size is not one.
constexpr std::size_t kMaxRequestFileBytes = std::size_t{1} << 20;

int fail(const char* command, const Error& error) {
  if (error.reason() == api::kNoAgentReason) {
    std::fprintf(stderr, "topod %s: %s; is `topod run` running?\n", command, error.message().c_str());
    return kExitNoAgent;
  }
  std::fprintf(stderr, "topod %s: %s\n", command, error.message().c_str());
  return 1;
}

Result<std::string> socketOf(const ApiCommandOptions& options) {
  if (!options.socket.empty()) return options.socket;
  if (options.config_path.empty()) return ApiConfig{}.socket_path;
  auto config = loadConfig(options.config_path);
  if (!config.has_value()) return config.error();
  if (config->api.socket_path.empty()) {
    return Error::failedPrecondition(options.config_path + " disables the local API ([api] socket_path = \"\")");
  }
  return config->api.socket_path;
}

// The what-if pod of --request or --cpu/--memory.
Result<policies::PodRequest> whatIfPod(const ExplainOptions& options) {
  if (!options.request_file.empty()) {
    auto text = readRegularFile(options.request_file, {.max_bytes = kMaxRequestFileBytes, .no_follow = false});
    if (!text.has_value()) return text.error().withContext("cannot read the request");
    auto events = policies::parseTrace(*text, options.request_file);
    if (!events.has_value()) return events.error();
    if (events->size() != 1 || events->front().op != policies::TraceOp::Add) {
      return Error::invalidArgument(options.request_file +
                                    ": expected one {\"op\":\"add\", ...} line, as in simulator traces");
    }
    return events->front().pod;
  }
  policies::ContainerRequest container;
  container.name = "main";
  auto cpu = parseMilliQuantity(options.cpu);
  if (!cpu.has_value()) return cpu.error().withContext("--cpu");
  container.cpu_request_millis = container.cpu_limit_millis = *cpu;
  if (!options.memory.empty()) {
    auto memory = parseByteQuantity(options.memory);
    if (!memory.has_value()) return memory.error().withContext("--memory");
    container.memory_request_bytes = container.memory_limit_bytes = *memory;
  }
  policies::PodRequest pod;
  pod.namespace_name = "what-if";
  pod.name = "what-if";
  pod.containers.push_back(container);
  pod.qos = policies::computeQosClass(pod.containers);
  return pod;
}

}  // namespace

int runStatusCommand(const ApiCommandOptions& options) {
  auto socket = socketOf(options);
  if (!socket.has_value()) return fail("status", socket.error());
  api::Client client(*socket);
  auto status = client.status();
  if (!status.has_value()) return fail("status", status.error());
  std::fputs((options.output == "json" ? api::formatStatusJson(*status) : api::formatStatus(*status)).c_str(), stdout);
  return 0;
}

int runAllocationsCommand(const ApiCommandOptions& options) {
  auto socket = socketOf(options);
  if (!socket.has_value()) return fail("allocations", socket.error());
  api::Client client(*socket);
  auto allocations = client.allocations();
  if (!allocations.has_value()) return fail("allocations", allocations.error());
  std::fputs(
      (options.output == "json" ? api::formatAllocationsJson(*allocations) : api::formatAllocationsTable(*allocations))
          .c_str(),
      stdout);
  return 0;
}

int runExplainCommand(const ExplainOptions& options) {
  const bool what_if = !options.request_file.empty() || !options.cpu.empty();
  if (what_if == !options.target.empty() || (!options.memory.empty() && options.cpu.empty()) ||
      (!options.request_file.empty() && !options.cpu.empty())) {
    std::fprintf(stderr,
                 "topod explain: give POD[/CONTAINER], or a what-if: --request FILE, or --cpu Q [--memory Q]\n");
    return 2;
  }
  auto socket = socketOf(options.api);
  if (!socket.has_value()) return fail("explain", socket.error());
  api::Client client(*socket);
  Result<std::vector<api::ContainerExplanation>> explained = Error::internal("no answer");
  if (what_if) {
    auto pod = whatIfPod(options);
    if (!pod.has_value()) return fail("explain", pod.error());
    explained = client.whatIf(*pod);
  } else {
    // POD is namespace/name or a UID; a third part, or a second one after a UID, is the container.
    api::ExplainQuery query{.pod = options.target, .container = {}};
    const auto first = options.target.find('/');
    const auto second = first == std::string::npos ? std::string::npos : options.target.find('/', first + 1);
    if (second != std::string::npos) {
      query.pod = options.target.substr(0, second);
      query.container = options.target.substr(second + 1);
    }
    explained = client.explain(query);
    if (!explained.has_value() && explained.error().code() == ErrorCode::NotFound && first != std::string::npos &&
        second == std::string::npos) {
      // "uid/container" reads like "namespace/name": try it that way too.
      auto by_uid = client.explain(
          api::ExplainQuery{.pod = options.target.substr(0, first), .container = options.target.substr(first + 1)});
      if (by_uid.has_value()) explained = std::move(by_uid);
    }
  }
  if (!explained.has_value()) return fail("explain", explained.error());
  std::fputs(
      (options.api.output == "json" ? api::formatExplanationsJson(*explained) : api::formatExplanations(*explained))
          .c_str(),
      stdout);
  return 0;
}

}  // namespace topod::agent
