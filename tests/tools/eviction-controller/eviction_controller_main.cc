// eviction-controller: the test-side eviction controller (tests/kube/eviction_test_controller.h,
// the activation rules of k8s-apis.md 2.4/2.5) as a command for the e2e harness. One operation
// per invocation; results on stdout, errors on stderr and exit status 1. Usage: --help.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/eviction_object.h"
#include "kube/eviction_request.h"
#include "tests/kube/eviction_test_controller.h"
#include "tests/tools/command_line.h"

namespace topod::e2e {
namespace {

constexpr const char* kUsage = R"(usage: eviction-controller --kubeconfig FILE [--namespace NS] COMMAND ...
  install-crd FILE...
        create the CRDs (JSON) and wait until they are served
  request --pod NAME --uid UID --requester NAME [--responder NAME:PRIORITY ...]
        an EvictionRequest from NAME for the pod, and the Eviction the controller makes of it
        (its responders Inactive); prints the Eviction's name
  step NAME [--heartbeat-deadline SECONDS]
        one reconcile: Completed / Interrupted / the next responder Active
  cancel NAME
        the request withdrawn: what has not finished becomes Canceled
  delete NAME
        the Eviction deleted (a withdrawal the controller did not mark first)
  get NAME
        the Eviction as JSON, one line
  requests
        the namespace's EvictionRequests, one line each: NAME REQUESTER INTENT POD_UID REASON
  watch-steps NAME --until RESPONDER=STATE --timeout SECONDS [--every-ms MS] [--heartbeat-deadline SECONDS]
        step every MS (default 200) until RESPONDER's state is STATE; prints the seconds it took
)";

using Args = tools::CommandLine;
using tools::option;

Result<Args> parseArgs(int argc, char** argv) {
  // Any --NAME VALUE is an option (each command reads its own); --responder repeats.
  return tools::parseCommandLine(argc, argv,
                                 tools::CommandLineSpec{.options = {}, .repeated = {"responder"}, .flags = {}});
}

Result<std::vector<std::pair<std::string, int>>> respondersOf(const Args& args) {
  std::vector<std::pair<std::string, int>> out;
  for (const std::string& text : args.all("responder")) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) return Error::invalidArgument("--responder " + text + ": want NAME:PRIORITY");
    try {
      out.emplace_back(text.substr(0, colon), std::stoi(text.substr(colon + 1)));
    } catch (const std::exception&) {
      return Error::invalidArgument("--responder " + text + ": the priority is not a number");
    }
  }
  return out;
}

Status installCrd(kube::Client& client, const std::string& file, const std::string& namespace_name) {
  std::ifstream in(file);
  if (!in) return Error::notFound("cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json crd = nlohmann::json::parse(text.str(), nullptr, false);
  if (crd.is_discarded()) return Error::invalidArgument(file + " is not JSON");
  auto created = client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  if (!created && created.error().code() != ErrorCode::AlreadyExists) return created.error();
  const std::string plural = crd["spec"]["names"]["plural"];
  const std::string group = crd["spec"]["group"];
  const std::string version = crd["spec"]["versions"][0]["name"];
  // Established is not served everywhere at once; a list proves it. 30 s covers a slow machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (client.list("/apis/" + group + "/" + version + "/namespaces/" + namespace_name + "/" + plural)) {
      return okStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error::unavailable(plural + "." + group + " not served after 30 s");
}

int run(int argc, char** argv) {
  auto args = parseArgs(argc, argv);
  if (!args) {
    std::cerr << "eviction-controller: " << args.error().message() << "\n" << kUsage;
    return 2;
  }
  if (args->command == "help") {
    std::cout << kUsage;
    return 0;
  }
  auto config = kube::loadKubeconfig(option(*args, "kubeconfig"));
  if (!config) {
    std::cerr << "eviction-controller: " << config.error().toString() << "\n";
    return 1;
  }
  kube::ClientOptions client_options;
  client_options.qps = 1000;  // a test tool: no client-side limit worth having
  client_options.burst = 1000;
  auto client = kube::Client::create(*config, client_options);
  if (!client) {
    std::cerr << "eviction-controller: " << client.error().toString() << "\n";
    return 1;
  }
  const std::string ns = option(*args, "namespace", "default");
  const auto heartbeat_deadline = std::chrono::seconds(std::stoi(option(*args, "heartbeat-deadline", "1200")));
  testing::EvictionTestController controller(**client, ns, heartbeat_deadline);
  auto fail = [](const Error& error) {
    std::cerr << "eviction-controller: " << error.toString() << "\n";
    return 1;
  };
  const std::string& cmd = args->command;
  const std::string name = args->positional.empty() ? "" : args->positional[0];

  if (cmd == "install-crd") {
    for (const std::string& file : args->positional) {
      if (Status done = installCrd(**client, file, ns); !done) return fail(done.error());
    }
    return 0;
  }
  if (cmd == "request") {
    auto responders = respondersOf(*args);
    if (!responders) return fail(responders.error());
    const std::string pod = option(*args, "pod");
    const std::string uid = option(*args, "uid");
    const std::string requester = option(*args, "requester");
    auto object = kube::evictionRequestObject({.namespace_name = ns,
                                               .pod_name = pod,
                                               .pod_uid = uid,
                                               .requester = requester,
                                               .reason = "e2e",
                                               .message = ""});
    if (!object) return fail(object.error());
    auto created = (*client)->create(kube::evictionRequestsCollection(ns), *object);
    if (!created) return fail(created.error());
    auto eviction = controller.create(pod, uid, *responders, requester);
    if (!eviction) return fail(eviction.error());
    std::cout << *eviction << "\n";
    return 0;
  }
  if (cmd == "requests") {
    auto listed = (*client)->list(kube::evictionRequestsCollection(ns));
    if (!listed) return fail(listed.error());
    for (const nlohmann::json& item : listed->items) {
      const nlohmann::json annotations = item["metadata"].value("annotations", nlohmann::json::object());
      std::cout << item["metadata"].value("name", "-") << " " << item["spec"].value("requester", "-") << " "
                << item["spec"].value("intent", "-") << " " << item["spec"]["target"]["pod"].value("uid", "-") << " "
                << annotations.value(kube::kEvictionRequestReasonAnnotation, "-") << "\n";
    }
    return 0;
  }
  if (name.empty()) return fail(Error::invalidArgument(cmd + " needs the Eviction's name"));
  if (cmd == "step") {
    Status done = controller.step(name);
    return done ? 0 : fail(done.error());
  }
  if (cmd == "cancel") {
    Status done = controller.cancel(name);
    return done ? 0 : fail(done.error());
  }
  if (cmd == "delete") {
    Status done = (*client)->remove(kube::evictionsCollection(ns) + "/" + name);
    return done ? 0 : fail(done.error());
  }
  if (cmd == "get") {
    auto got = (*client)->get(kube::evictionsCollection(ns) + "/" + name);
    if (!got) return fail(got.error());
    std::cout << got->dump() << "\n";
    return 0;
  }
  if (cmd == "watch-steps") {
    const std::string until = option(*args, "until");
    const std::size_t eq = until.find('=');
    if (eq == std::string::npos) return fail(Error::invalidArgument("--until RESPONDER=STATE"));
    const std::string responder = until.substr(0, eq);
    const std::string want = until.substr(eq + 1);
    const auto every = std::chrono::milliseconds(std::stoi(option(*args, "every-ms", "200")));
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(std::stoi(option(*args, "timeout", "60")));
    for (;;) {
      if (Status done = controller.step(name); !done) return fail(done.error());
      if (kube::responderStateName(controller.state(name, responder)) == want) {
        std::printf("%.1f\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return fail(Error(ErrorCode::DeadlineExceeded,
                          responder + " not " + want + " in time; state " +
                              std::string(kube::responderStateName(controller.state(name, responder)))));
      }
      std::this_thread::sleep_for(every);
    }
  }
  return fail(Error::invalidArgument("unknown command " + cmd));
}

}  // namespace
}  // namespace topod::e2e

int main(int argc, char** argv) {
  return topod::e2e::run(argc, argv);
}
