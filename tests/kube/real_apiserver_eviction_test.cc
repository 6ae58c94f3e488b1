// topod's eviction responder against a real API server: the merged lifecycle.k8s.io/v1alpha1
// Eviction type served as a CRD (eviction-crd.json; the controllers are not released), plus a
// small test-side controller implementing the activation rules of k8s-apis.md 2.4/2.5
// (responders by priority, one Active at a time, heartbeat deadline, Completed on
// completionTime). The responder runs for real (watch, server-side apply of its status); the
// node side (NRI pods, the signal, the workload's files) is faked. Run by
// run-real-apiserver-test.sh (CTest label "kube").
//
// Waits are bounded polls of the real server, the thing under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/eviction_requests.h"
#include "agent/eviction_warnings.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/eviction_object.h"
#include "kube/eviction_request.h"
#include "tests/kube/eviction_test_controller.h"

namespace topod::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kResponder = "topod.io/warning";
constexpr const char* kEvictor = "imperative-eviction.k8s.io/evictor";
constexpr const char* kNamespace = "default";

std::string evictionRunDir() {
  const char* dir = std::getenv("TOPOD_KUBE_RUN_DIR");
  return dir == nullptr ? "" : dir;
}

std::unique_ptr<kube::Client> makeClient() {
  auto config = kube::loadKubeconfig(evictionRunDir() + "/kubeconfig");
  EXPECT_TRUE(config.has_value()) << config.error().toString();
  kube::ClientOptions options;
  options.qps = 1000;
  options.burst = 1000;
  options.timeout = milliseconds(5000);
  auto client = kube::Client::create(*config, options);
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

// Polls `done` every 20 ms until it holds or `limit` passes. What it waits for is the API server,
// another process, and the responder's threads answering it; topod's own timing (heartbeat gap,
// deadlines) is stepped by the test through the responder's wall clock (wall_ahead_s_), never
// waited for here.
bool eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(15000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

void installCrd(kube::Client& client, const std::string& file = TOPOD_KUBE_EVICTION_CRD,
                const std::string& plural = "evictions") {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto crd = nlohmann::json::parse(text.str());
  auto created = client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  if (!created) {
    ASSERT_EQ(created.error().code(), ErrorCode::AlreadyExists) << created.error().toString();
  }
  ASSERT_TRUE(eventually([&] {
    auto got = client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + plural + ".lifecycle.k8s.io");
    if (!got) return false;
    for (const auto& condition : (*got)["status"].value("conditions", nlohmann::json::array())) {
      if (condition.value("type", "") == "Established" && condition.value("status", "") == "True") return true;
    }
    return false;
  }));
  // Established is not yet served everywhere; a list proves it.
  ASSERT_TRUE(eventually([&] {
    return client.list("/apis/lifecycle.k8s.io/v1alpha1/namespaces/" + std::string(kNamespace) + "/" + plural)
        .has_value();
  }));
}

// The shared test controller (eviction_test_controller.h), its errors turned into test failures.
class TestController {
 public:
  TestController(kube::Client& client, seconds heartbeat_deadline) : inner_(client, kNamespace, heartbeat_deadline) {}
  std::string create(const std::string& pod, const std::string& uid,
                     const std::vector<std::pair<std::string, int>>& responders, const std::string& requester = "") {
    auto name = inner_.create(pod, uid, responders, requester);
    EXPECT_TRUE(name.has_value()) << name.error().toString();
    return name.value_or("");
  }
  void step(const std::string& name) {
    Status done = inner_.step(name);
    EXPECT_TRUE(done.has_value()) << done.error().toString();
  }
  void cancel(const std::string& name) {
    Status done = inner_.cancel(name);
    EXPECT_TRUE(done.has_value()) << done.error().toString();
  }
  std::optional<kube::EvictionView> view(const std::string& name) { return inner_.view(name); }
  kube::ResponderState state(const std::string& name, const std::string& responder) {
    return inner_.state(name, responder);
  }

 private:
  testing::EvictionTestController inner_;
};

class NoopHandler final : public nri::EventHandler {
 public:
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override {
    return nri::CreateReply{};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    return std::vector<nri::Update>{};
  }
};

// The workload's side, thread-safe: what it was told, what it says.
class Workloads final : public WorkloadFiles {
 public:
  Status writeNotice(const Warning& warning, NoticeKind kind, std::string_view) override {
    std::lock_guard lock(mutex_);
    notices_.emplace_back(warning.pod_uid, kind);
    return okStatus();
  }
  Result<std::optional<Progress>> readProgress(const std::string& uid) override {
    std::lock_guard lock(mutex_);
    auto it = progress_.find(uid);
    if (it == progress_.end()) return std::optional<Progress>();
    return std::optional<Progress>(it->second);
  }
  Status remove(const std::string&) override { return okStatus(); }
  void say(const std::string& uid, Progress progress) {
    std::lock_guard lock(mutex_);
    progress_[uid] = std::move(progress);
  }
  int notices(const std::string& uid, NoticeKind kind) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count(notices_.begin(), notices_.end(), std::make_pair(uid, kind)));
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, NoticeKind>> notices_;
  std::map<std::string, Progress> progress_;
};

std::string podUid(int n) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "0b7c0a2e-0000-4000-8000-%012d", n);
  return buffer;
}

class RealEviction : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = makeClient();
    installCrd(*client_);
    // Each test starts from no Evictions: those of earlier tests name the same pod uids.
    auto listed = client_->list(kube::evictionsCollection(kNamespace));
    ASSERT_TRUE(listed.has_value());
    for (const auto& item : listed->items) {
      ASSERT_TRUE(
          client_->remove(kube::evictionsCollection(kNamespace) + "/" + item["metadata"]["name"].get<std::string>()));
    }
    char pattern[] = "/tmp/topod-evict-state-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    state_dir_ = pattern;
  }
  void TearDown() override {
    warnings_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  // The node runs pods 1..count (container cgroup "/pod<n>/c"); annotations per pod.
  void runPods(int count, const std::map<int, std::map<std::string, std::string>>& annotations = {}) {
    std::vector<nri::Pod> pods;
    std::vector<nri::Container> containers;
    for (int n = 1; n <= count; ++n) {
      nri::Pod pod;
      pod.id = "sandbox-" + std::to_string(n);
      pod.uid = podUid(n);
      pod.namespace_name = kNamespace;
      pod.name = "train-" + std::to_string(n);
      if (auto it = annotations.find(n); it != annotations.end()) {
        pod.annotations = {it->second.begin(), it->second.end()};
      }
      pods.push_back(pod);
      nri::Container container;
      container.id = "c-" + std::to_string(n);
      container.pod_id = pod.id;
      container.cgroups_path = "/pod" + std::to_string(n) + "/c";
      containers.push_back(container);
    }
    ASSERT_TRUE(tracker_.onSynchronize(pods, containers));
  }

  void startResponder(seconds deadline = seconds(600)) {
    api_ = makeClientEvictionApi(*client_);
    EvictionWarningsOptions options;
    options.settings.responder_name = kResponder;
    options.settings.deadline = deadline;
    options.settings.heartbeat_interval = seconds(20);
    options.poll_interval = milliseconds(100);
    options.state_dir = state_dir_;
    warnings_ = std::make_unique<EvictionWarnings>(
        options, *api_, workloads_, tracker_,
        [this](const std::string& cgroup, int) -> Result<int> {
          std::lock_guard lock(mutex_);
          signalled_.emplace_back(cgroup, std::chrono::steady_clock::now());
          return 1;
        },
        [this] {
          return std::chrono::floor<seconds>(std::chrono::system_clock::now()) + seconds(wall_ahead_s_.load());
        },
        steadyClock(), [](bool, const std::string&) {});
    warnings_->load();
    warnings_->start();
  }

  int signals(const std::string& cgroup) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(
        std::count_if(signalled_.begin(), signalled_.end(), [&](const auto& entry) { return entry.first == cgroup; }));
  }
  std::optional<std::chrono::steady_clock::time_point> signalledAt(const std::string& cgroup) {
    std::lock_guard lock(mutex_);
    for (const auto& [c, at] : signalled_) {
      if (c == cgroup) return at;
    }
    return std::nullopt;
  }

  const kube::ResponderStatus* mine(const std::optional<kube::EvictionView>& view) {
    return view ? view->responderStatus(kResponder) : nullptr;
  }

  std::unique_ptr<kube::Client> client_;
  std::string state_dir_;
  NoopHandler inner_;
  PodTracker tracker_{inner_};
  Workloads workloads_;
  std::unique_ptr<EvictionApi> api_;
  std::unique_ptr<EvictionWarnings> warnings_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> signalled_;
  // How far the responder's wall clock runs ahead of the real one: the test steps it past the
  // heartbeat gap and the deadlines instead of waiting for them.
  std::atomic<int64_t> wall_ahead_s_{0};
};

TEST_F(RealEviction, WarnedProgressReportedEvictedOnlyAfterDoneAndIgnoresWhatIsNotItsOwn) {
  runPods(3);
  startResponder();
  TestController controller(*client_, seconds(1200));
  // Ignored: a pod that does not list topod, and a pod of another node (unknown uid here).
  const std::string not_listed = controller.create("train-2", podUid(2), {{kEvictor, 100}});
  controller.step(not_listed);
  const std::string other_node = controller.create("elsewhere", podUid(99), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(other_node);
  ASSERT_EQ(controller.state(other_node, kResponder), kube::ResponderState::Active);

  const std::string name = controller.create("train-1", podUid(1), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(name);
  ASSERT_EQ(controller.state(name, kResponder), kube::ResponderState::Active);
  ASSERT_EQ(controller.state(name, kEvictor), kube::ResponderState::Inactive);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; })) << "not warned";
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->heartbeat_time.has_value();
  })) << "no heartbeat";
  // Events arrive in order: by now the two earlier Evictions were seen and ignored.
  EXPECT_EQ(signals("/pod2/c"), 0);
  EXPECT_EQ(signals("/pod99/c"), 0);
  {
    auto v = controller.view(other_node);
    ASSERT_TRUE(v);
    const kube::ResponderStatus* status = mine(v);
    EXPECT_TRUE(status == nullptr || !status->heartbeat_time.has_value()) << "answered for another node's pod";
  }

  // Progress appears in the status at the next heartbeat, once the 20 s gap has passed on the
  // responder's clock; the eviction waits.
  workloads_.say(podUid(1), {WorkloadState::Running, 50, "saving shard 4 of 8"});
  wall_ahead_s_ += 20;
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->message.find("50%: saving shard 4 of 8") != std::string::npos;
  })) << "progress not reported";
  controller.step(name);
  EXPECT_EQ(controller.state(name, kEvictor), kube::ResponderState::Inactive) << "evicted before done";

  workloads_.say(podUid(1), {WorkloadState::Done, 100, "checkpoint saved"});
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->completion_time.has_value();
  }));
  EXPECT_EQ(mine(controller.view(name))->message, "workload done: checkpoint saved");
  controller.step(name);
  EXPECT_EQ(controller.state(name, kResponder), kube::ResponderState::Completed);
  EXPECT_EQ(controller.state(name, kEvictor), kube::ResponderState::Active);
  EXPECT_EQ(signals("/pod1/c"), 1);
}

TEST_F(RealEviction, TheDeadlinePassesWhenTheWorkloadNeverAnswers) {
  runPods(1, {{1, {{kDeadlineAnnotation, "60"}}}});
  startResponder();
  TestController controller(*client_, seconds(1200));
  const std::string name = controller.create("train-1", podUid(1), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(name);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; }));
  EXPECT_FALSE(mine(controller.view(name)) != nullptr && mine(controller.view(name))->completion_time.has_value())
      << "completed before its deadline";
  wall_ahead_s_ += 61;  // past the 60 s deadline on the responder's clock, not in real time
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->completion_time.has_value();
  }));
  EXPECT_EQ(mine(controller.view(name))->message, "deadline passed (60s) before the workload said done");
  controller.step(name);
  EXPECT_EQ(controller.state(name, kEvictor), kube::ResponderState::Active);
}

TEST_F(RealEviction, AWithdrawnRequestTellsTheWorkload) {
  runPods(1);
  startResponder();
  TestController controller(*client_, seconds(1200));
  const std::string name = controller.create("train-1", podUid(1), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(name);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; }));
  controller.cancel(name);
  ASSERT_TRUE(eventually([&] { return workloads_.notices(podUid(1), NoticeKind::Cancelled) == 1; }));
  EXPECT_EQ(warnings_->warnings().at(0).phase, WarningPhase::Cancelled);
}

TEST_F(RealEviction, RestartedMidWarningItGoesOnWithoutWarningTwice) {
  runPods(1);
  startResponder();
  TestController controller(*client_, seconds(1200));
  const std::string name = controller.create("train-1", podUid(1), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(name);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; }));
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->heartbeat_time.has_value();
  }));
  warnings_.reset();  // topod stops mid-warning ...
  startResponder();   // ... and starts again on the same state directory
  workloads_.say(podUid(1), {WorkloadState::Done, 100, "saved"});
  ASSERT_TRUE(eventually([&] {
    const auto v = controller.view(name);
    return mine(v) != nullptr && mine(v)->completion_time.has_value();
  }));
  EXPECT_EQ(signals("/pod1/c"), 1) << "warned twice";
}

TEST_F(RealEviction, TheApiServerDownMidWarningDelaysTheCompletionOnly) {
  runPods(1);
  startResponder();
  TestController controller(*client_, seconds(1200));
  const std::string name = controller.create("train-1", podUid(1), {{kResponder, 5000}, {kEvictor, 100}});
  controller.step(name);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; }));
  const std::string script = std::string(TOPOD_KUBE_SCRIPT) + " ";
  ASSERT_EQ(std::system((script + "stop-server " + evictionRunDir()).c_str()), 0);
  workloads_.say(podUid(1), {WorkloadState::Done, 100, "saved while the server was down"});
  // While the server is down the workload's "done" is read and the warning finishes, but the
  // completion cannot reach the server: it stays unreported until the server is back.
  ASSERT_TRUE(eventually([&] {
    for (const auto& warning : warnings_->warnings()) {
      if (warning.pod_uid == podUid(1) && warning.phase == WarningPhase::Finished) return true;
    }
    return false;
  }));
  for (const auto& warning : warnings_->warnings()) {
    if (warning.pod_uid == podUid(1)) {
      EXPECT_FALSE(warning.completion_reported);
    }
  }
  ASSERT_EQ(std::system((script + "start-server " + evictionRunDir()).c_str()), 0);
  ASSERT_TRUE(eventually(
      [&] {
        const auto v = controller.view(name);
        return mine(v) != nullptr && mine(v)->completion_time.has_value();
      },
      milliseconds(60000)));
  EXPECT_EQ(mine(controller.view(name))->message, "workload done: saved while the server was down");
  EXPECT_EQ(signals("/pod1/c"), 1);
}

// topod as a requester: the EvictionRequest it makes for a pod whose CPUs it lost is accepted by
// the merged type's schema (served as a CRD), made once across a restart, and seen by the test
// controller, which turns it into an Eviction that topod's own responder then answers.
TEST_F(RealEviction, TopodsOwnEvictionRequestIsAcceptedMadeOnceAndBecomesAnEviction) {
  installCrd(*client_, TOPOD_KUBE_EVICTIONREQUEST_CRD, "evictionrequests");
  const std::string requests = kube::evictionRequestsCollection(kNamespace);
  if (auto old = client_->list(requests); old) {
    for (const auto& item : old->items) {
      ASSERT_TRUE(client_->remove(requests + "/" + item["metadata"]["name"].get<std::string>()));
    }
  }
  runPods(1);
  startResponder();
  const LostAllocation lost{.pod_namespace = kNamespace,
                            .pod_name = "train-1",
                            .pod_uid = podUid(1),
                            .container = "c",
                            .reason = LostAllocationReason::CpusShrunk,
                            .why = "CPUs 0-7 are reserved now"};
  std::vector<std::string> reports;
  auto report = [&reports](bool, const std::string& message) { reports.push_back(message); };
  {
    EvictionRequester requester(EvictionRequesterOptions{}, *client_, steadyClock(), nullptr, report);
    requester.request(lost);
    requester.tick();
    EXPECT_EQ(requester.stats(), (EvictionRequesterStats{.created = 1, .existing = 0, .failures = 0}))
        << ::testing::PrintToString(reports);
  }
  {
    EvictionRequester restarted(EvictionRequesterOptions{}, *client_, steadyClock(), nullptr, report);
    restarted.request(lost);
    restarted.tick();
    EXPECT_EQ(restarted.stats(), (EvictionRequesterStats{.created = 0, .existing = 1, .failures = 0}));
  }
  // The schema is really checked: what the API refuses, the CRD refuses too.
  auto bad = kube::evictionRequestObject({.namespace_name = kNamespace,
                                          .pod_name = "train-1",
                                          .pod_uid = podUid(1),
                                          .requester = "topod.io/node-pressure",
                                          .reason = "cpus_shrunk",
                                          .message = ""});
  ASSERT_TRUE(bad.has_value());
  (*bad)["metadata"]["name"] = "reserved-requester";
  (*bad)["spec"]["requester"] = "evictor.k8s.io/x";
  auto refused = client_->create(requests, *bad);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::InvalidArgument) << refused.error().toString();

  // The controller's view: one request, for this pod incarnation, from topod, with the reason.
  auto listed = client_->list(requests);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->items.size(), 1u);
  const nlohmann::json& request = listed->items[0];
  EXPECT_EQ(request["spec"]["requester"], "topod.io/node-pressure");
  EXPECT_EQ(request["spec"]["intent"], "Eviction");
  EXPECT_EQ(request["spec"]["target"]["pod"]["uid"], podUid(1));
  EXPECT_EQ(request["metadata"]["annotations"]["eviction.topod.io/reason"], "cpus_shrunk");

  TestController controller(*client_, seconds(1200));
  const std::string name =
      controller.create(request["spec"]["target"]["pod"]["name"], request["spec"]["target"]["pod"]["uid"],
                        {{kResponder, 5000}, {kEvictor, 100}}, request["spec"]["requester"]);
  controller.step(name);
  ASSERT_TRUE(eventually([&] { return signals("/pod1/c") == 1; })) << "the pod was not warned";
  auto eviction = client_->get(kube::evictionsCollection(kNamespace) + "/" + name);
  ASSERT_TRUE(eviction.has_value());
  EXPECT_EQ((*eviction)["metadata"]["labels"]["topod.io/node-pressure"], "requester");
}

// The time from activation (the controller's status write returning) to the warning reaching
// the workload (the signal call), over many pods. Printed for docs/eviction.md.
TEST_F(RealEviction, RequestToWarningLatency) {
  constexpr int kPods = 200;
  runPods(kPods);
  startResponder();
  TestController controller(*client_, seconds(1200));
  std::vector<double> millis;
  for (int n = 1; n <= kPods; ++n) {
    const std::string name =
        controller.create("train-" + std::to_string(n), podUid(n), {{kResponder, 5000}, {kEvictor, 100}});
    // From just before the controller's activation (its GET and PUT of the status included:
    // the warning can reach the workload before the PUT's answer reaches the controller).
    const auto activated = std::chrono::steady_clock::now();
    controller.step(name);
    const std::string cgroup = "/pod" + std::to_string(n) + "/c";
    ASSERT_TRUE(eventually([&] { return signalledAt(cgroup).has_value(); }));
    millis.push_back(std::chrono::duration<double, std::milli>(*signalledAt(cgroup) - activated).count());
  }
  std::sort(millis.begin(), millis.end());
  auto pct = [&](double p) { return millis[std::min(millis.size() - 1, static_cast<std::size_t>(p * millis.size()))]; };
  std::printf("eviction request-to-warning latency over %d pods: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", kPods,
              pct(0.50), pct(0.99), millis.back());
}

}  // namespace
}  // namespace topod::agent
