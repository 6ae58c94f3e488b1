// The test-side eviction controller: the activation rules of k8s-apis.md 2.4/2.5, one step at a
// time, against a real API server that serves the merged Eviction type as a CRD (the controllers
// are not released). Responders run by priority (ties by name), one Active at a time; an Active
// responder with a completionTime becomes Completed, one past the heartbeat deadline
// Interrupted; a withdrawn request cancels what has not finished. Shared by the real-API-server
// tests (tests/kube/real_apiserver_eviction_test.cc) and the e2e tool
// (tests/tools/eviction-controller), so both test the same rules. No gtest: errors are values.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kube/client.h"
#include "kube/eviction_object.h"

namespace topod::testing {

class EvictionTestController {
 public:
  EvictionTestController(kube::Client& client, std::string namespace_name, std::chrono::seconds heartbeat_deadline)
      : client_(client), namespace_(std::move(namespace_name)), heartbeat_deadline_(heartbeat_deadline) {}

  // A new Eviction for pod (name, uid) whose responders are `responders` (name, priority), with
  // the labels the controller puts on it; all Inactive. `requester`, when given, is the
  // EvictionRequest's spec.requester it came from (a label and an entry of status.requesters).
  Result<std::string> create(const std::string& pod, const std::string& uid,
                             const std::vector<std::pair<std::string, int>>& responders,
                             const std::string& requester = "") {
    // Names stay unique across the tests of one server run and across processes of one run.
    static int counter = 0;
    const std::string name = "pod-" + std::to_string(++counter) + "-" + uid.substr(0, 8) + "-" + pod;
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [responder, priority] : responders) labels[responder] = "responder";
    if (!requester.empty()) labels[requester] = "requester";
    nlohmann::json object = {{"apiVersion", kube::kEvictionApiVersion},
                             {"kind", kube::kEvictionKind},
                             {"metadata", {{"name", name}, {"namespace", namespace_}, {"labels", labels}}},
                             {"spec", {{"target", {{"pod", {{"name", pod}, {"uid", uid}}}}}}}};
    auto created = client_.create(kube::evictionsCollection(namespace_), object);
    if (!created) return created.error().withContext("creating Eviction " + name);
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& [responder, priority] : responders) {
      targets.push_back({{"name", responder}, {"priority", priority}, {"state", "Inactive"}});
    }
    Status listed = update(name, [&](nlohmann::json& status) {
      status["targetResponders"] = targets;
      if (!requester.empty()) status["requesters"] = {{{"name", requester}, {"intent", "Eviction"}}};
    });
    if (!listed) return listed.error();
    return name;
  }

  // One reconcile: finish the Active responder if it completed or missed its heartbeat, then
  // activate the next Inactive one by priority (ties by name) when none is Active.
  Status step(const std::string& name) {
    return update(name, [&](nlohmann::json& status) {
      auto& targets = status["targetResponders"];
      std::vector<std::size_t> order(targets.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (targets[a]["priority"] != targets[b]["priority"]) return targets[a]["priority"] > targets[b]["priority"];
        return targets[a]["name"] < targets[b]["name"];
      });
      if (!status.contains("responders")) status["responders"] = nlohmann::json::array();
      auto entry = [&](const std::string& responder) -> nlohmann::json* {
        for (auto& r : status["responders"]) {
          if (r["name"] == responder) return &r;
        }
        return nullptr;
      };
      bool active = false;
      for (std::size_t i : order) {
        if (targets[i]["state"] != "Active") continue;
        const nlohmann::json* mine = entry(targets[i]["name"]);
        if (mine != nullptr && mine->contains("completionTime")) {
          targets[i]["state"] = "Completed";
          continue;
        }
        std::string last = mine == nullptr ? "" : mine->value("heartbeatTime", mine->value("startTime", ""));
        auto at = kube::parseWallTime(last);
        if (at && wallNow() - *at > heartbeat_deadline_) {
          targets[i]["state"] = "Interrupted";
          continue;
        }
        active = true;
      }
      if (active) return;
      for (std::size_t i : order) {
        if (targets[i]["state"] != "Inactive") continue;
        targets[i]["state"] = "Active";
        if (entry(targets[i]["name"]) == nullptr) {
          status["responders"].push_back(
              {{"name", targets[i]["name"]}, {"startTime", kube::formatWallTime(wallNow())}});
        }
        return;
      }
    });
  }

  // Withdrawn: every still Inactive or Active responder becomes Canceled.
  Status cancel(const std::string& name) {
    return update(name, [](nlohmann::json& status) {
      for (auto& target : status["targetResponders"]) {
        if (target["state"] == "Active" || target["state"] == "Inactive") target["state"] = "Canceled";
      }
    });
  }

  std::optional<kube::EvictionView> view(const std::string& name) {
    auto got = client_.get(kube::evictionsCollection(namespace_) + "/" + name);
    if (!got) return std::nullopt;
    auto view = kube::parseEviction(*got);
    if (!view) return std::nullopt;
    return *view;
  }

  kube::ResponderState state(const std::string& name, const std::string& responder) {
    auto v = view(name);
    if (!v) return kube::ResponderState::Unknown;
    const kube::TargetResponder* target = v->targetResponder(responder);
    return target == nullptr ? kube::ResponderState::Unknown : target->state;
  }

  static kube::WallTime wallNow() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

 private:
  // GET, change status, PUT /status; again on a conflict with a responder's own writes.
  Status update(const std::string& name, const std::function<void(nlohmann::json&)>& change) {
    const std::string path = kube::evictionsCollection(namespace_) + "/" + name;
    constexpr int kAttempts = 20;  // responders write often; a few conflicts in a row happen
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      auto got = client_.get(path);
      if (!got) return got.error();
      nlohmann::json object = *got;
      if (!object.contains("status")) object["status"] = nlohmann::json::object();
      change(object["status"]);
      auto put = client_.replace(path + "/status", object);
      if (put) return okStatus();
      if (put.error().code() != ErrorCode::Aborted) return put.error();
    }
    return Error{ErrorCode::Aborted, "status of " + name + " kept conflicting"};
  }

  kube::Client& client_;
  std::string namespace_;
  std::chrono::seconds heartbeat_deadline_;
};

}  // namespace topod::testing
