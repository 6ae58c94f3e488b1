// The plugin's side of the NRI "Plugin" ttrpc service, without any socket: takes one decoded
// ttrpc request from the runtime and produces the ttrpc response, calling the EventHandler.
// Holds the per-connection protocol state (runtime info, the split-Synchronize accumulator, the
// pod cache used to resolve events that arrive without their pod: topod's only pod cache, the
// agent keeps none). nri::Plugin creates one per connection; tests drive it directly.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "nri/convert.h"
#include "nri/event_handler.h"
#include "nri/ttrpc.h"
#include "nri/types.h"

namespace topod::nri {

constexpr const char* kPluginServiceName = "nri.pkg.api.v1alpha1.Plugin";
constexpr const char* kRuntimeServiceName = "nri.pkg.api.v1alpha1.Runtime";

class PluginService {
 public:
  // `wanted` = the events topod would like; `report` receives non-fatal problems (events for
  // unknown pods, objects that fail to convert) that are answered without failing the request.
  PluginService(EventMask wanted, EventHandler& handler, std::function<void(const Error&)> report);

  ttrpc::Response handle(const ttrpc::Request& request);

  bool configured() const { return configured_; }
  bool synchronized() const { return synchronized_; }
  const RuntimeInfo& runtime() const { return runtime_; }
  size_t knownPods() const { return pods_.size(); }

 private:
  Result<std::string> configure(const std::string& payload);
  Result<std::string> synchronize(const std::string& payload);
  Result<std::string> createContainer(const std::string& payload);
  Result<std::string> updateContainer(const std::string& payload);
  Result<std::string> stopContainer(const std::string& payload);
  Result<std::string> updatePodSandbox(const std::string& payload);
  Result<std::string> stateChange(const std::string& payload);

  // Pod and container notifications, shared by the dedicated RPCs and StateChange.
  Status podEvent(Event event, const pb::PodSandbox* pod);
  Status containerEvent(Event event, const pb::PodSandbox* pod, const pb::Container& container);

  // The event's pod: from the message when present (refreshing the cache), else from the cache
  // by the container's pod id. Errors: NotFound for a pod we never heard of.
  Result<Pod> resolvePod(const pb::PodSandbox* pod, const Container* container, Event event);

  EventMask wanted_;
  EventHandler& handler_;
  std::function<void(const Error&)> report_;
  RuntimeInfo runtime_;
  bool configured_ = false;
  bool synchronized_ = false;
  std::vector<Pod> sync_pods_;
  std::vector<Container> sync_containers_;
  std::map<std::string, Pod> pods_;  // by sandbox id
};

}  // namespace topod::nri
