// RuntimeSim's events: node-state changes plus the plugin calls containerd would make.
#include "tests/tools/nri-runtime-sim/runtime_sim.h"
#include "tests/tools/nri-runtime-sim/runtime_sim_impl.h"

namespace topod::nri::sim {
namespace {

template <typename Message>
Result<Message> parseAnswer(const std::optional<std::string>& payload, const char* what) {
  Message message;
  if (payload.has_value() && !message.ParseFromString(*payload)) {
    return Error::invalidArgument(std::string("the plugin's ") + what + " answer is not valid");
  }
  return message;
}

Result<std::vector<Update>> updatesOf(const google::protobuf::RepeatedPtrField<pb::ContainerUpdate>& updates) {
  std::vector<Update> out;
  for (const pb::ContainerUpdate& update : updates) {
    auto converted = updateFromProto(update);
    if (!converted.has_value()) return converted.error();
    out.push_back(std::move(*converted));
  }
  return out;
}

Status statusOf(const Result<std::optional<std::string>>& delivered) {
  if (!delivered.has_value()) return delivered.error();
  return okStatus();
}

}  // namespace

bool RuntimeSim::Impl::podProto(const std::string& pod_id, pb::PodSandbox* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_id);
  if (it == pods_.end()) return false;
  podToProto(it->second, out);
  return true;
}

bool RuntimeSim::Impl::containerProto(const std::string& container_id, pb::Container* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return false;
  containerToProto(it->second, out);
  return true;
}

Result<std::optional<std::string>> RuntimeSim::Impl::deliver(Event event, const std::string& method,
                                                             const std::string& payload, bool notification,
                                                             const pb::PodSandbox* pod,
                                                             const pb::Container* container) {
  std::lock_guard<std::mutex> event_lock(event_mu_);
  std::shared_ptr<Session> session;
  bool fallback = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_) return Error::unavailable("no plugin is connected to the simulator");
    if ((subscribed_ & eventBit(event)) == 0) return std::optional<std::string>();
    if ((options_.personality.valid_events & eventBit(event)) == 0) return std::optional<std::string>();
    session = session_;
    fallback = fallback_;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  auto stateChange = [&]() {
    pb::StateChangeEvent legacy;
    legacy.set_event(static_cast<pb::Event>(static_cast<int>(event)));
    if (pod != nullptr) *legacy.mutable_pod() = *pod;
    if (container != nullptr) *legacy.mutable_container() = *container;
    return call(session, "StateChange", legacy.SerializeAsString(), deadline);
  };
  Result<ttrpc::Response> answer = Error::internal("unset");
  if (notification && (!options_.personality.dedicated_rpcs || fallback)) {
    answer = stateChange();
  } else {
    answer = call(session, method, payload, deadline);
    if (notification && answer.has_value() && answer->code == ErrorCode::Unimplemented) {
      // NRI >= 0.12: the plugin predates the dedicated RPCs; use StateChange from now on.
      {
        std::lock_guard<std::mutex> lock(mu_);
        fallback_ = true;
      }
      answer = stateChange();
    }
  }
  if (!answer.has_value()) return answer.error();
  if (answer->code != ErrorCode::Ok) {
    return Error(answer->code, "plugin failed " + method + ": " + answer->message);
  }
  return std::optional<std::string>(std::move(answer->payload));
}

namespace {

// Request with a pod (field 1) and optionally a container (field 2), as all notifications are.
template <typename Request>
std::string podRequest(const pb::PodSandbox* pod, const pb::Container* container) {
  Request request;
  if (pod != nullptr) *request.mutable_pod() = *pod;
  if constexpr (requires { request.mutable_container(); }) {
    if (container != nullptr) *request.mutable_container() = *container;
  }
  return request.SerializeAsString();
}

}  // namespace

Status RuntimeSim::runPodSandbox(const Pod& pod) {
  addPod(pod);
  pb::PodSandbox pod_pb;
  podToProto(pod, &pod_pb);
  return statusOf(impl_->deliver(Event::RunPodSandbox, "RunPodSandbox",
                                 podRequest<pb::RunPodSandboxRequest>(&pod_pb, nullptr), true, &pod_pb, nullptr));
}

#define TOPOD_SIM_POD_EVENT(function, event, request_type, erase_after)                                                \
  Status RuntimeSim::function(const std::string& pod_id) {                                                             \
    pb::PodSandbox pod_pb;                                                                                             \
    const bool known = impl_->podProto(pod_id, &pod_pb);                                                               \
    if (!known) pod_pb.set_id(pod_id);                                                                                 \
    Status status = statusOf(                                                                                          \
        impl_->deliver(Event::event, #event, podRequest<pb::request_type>(&pod_pb, nullptr), true, &pod_pb, nullptr)); \
    if (erase_after) {                                                                                                 \
      std::lock_guard<std::mutex> lock(impl_->mu_);                                                                    \
      impl_->pods_.erase(pod_id);                                                                                      \
    }                                                                                                                  \
    return status;                                                                                                     \
  }

TOPOD_SIM_POD_EVENT(stopPodSandbox, StopPodSandbox, StopPodSandboxRequest, false)
TOPOD_SIM_POD_EVENT(removePodSandbox, RemovePodSandbox, RemovePodSandboxRequest, true)
TOPOD_SIM_POD_EVENT(postUpdatePodSandbox, PostUpdatePodSandbox, PostUpdatePodSandboxRequest, false)
#undef TOPOD_SIM_POD_EVENT

Status RuntimeSim::updatePodSandbox(const std::string& pod_id, const LinuxResources& overhead,
                                    const LinuxResources& resources) {
  pb::UpdatePodSandboxRequest request;
  if (!impl_->podProto(pod_id, request.mutable_pod())) request.mutable_pod()->set_id(pod_id);
  resourcesToProto(overhead, request.mutable_overhead_linux_resources());
  resourcesToProto(resources, request.mutable_linux_resources());
  return statusOf(impl_->deliver(Event::UpdatePodSandbox, "UpdatePodSandbox", request.SerializeAsString(), false,
                                 nullptr, nullptr));
}

Result<CreateResult> RuntimeSim::createContainer(const Container& container) {
  Container created = container;
  created.state = ContainerState::Created;
  addContainer(created);
  pb::CreateContainerRequest request;
  const bool known_pod = impl_->podProto(created.pod_id, request.mutable_pod());
  if (!known_pod) request.clear_pod();  // an event for a pod the runtime never announced
  containerToProto(created, request.mutable_container());
  auto delivered =
      impl_->deliver(Event::CreateContainer, "CreateContainer", request.SerializeAsString(), false, nullptr, nullptr);
  if (!delivered.has_value()) return delivered.error();
  auto answer = parseAnswer<pb::CreateContainerResponse>(*delivered, "CreateContainer");
  if (!answer.has_value()) return answer.error();
  CreateResult result;
  auto adjustment = adjustmentFromProto(answer->adjust());
  if (!adjustment.has_value()) return adjustment.error();
  result.adjustment = std::move(*adjustment);
  auto updates = updatesOf(answer->update());
  if (!updates.has_value()) return updates.error();
  result.updates = std::move(*updates);
  return result;
}

Status RuntimeSim::startContainer(const std::string& container_id, uint32_t pid) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    auto it = impl_->containers_.find(container_id);
    if (it != impl_->containers_.end()) {
      it->second.state = ContainerState::Running;
      it->second.pid = pid;
    }
  }
  pb::Container container_pb;
  if (!impl_->containerProto(container_id, &container_pb)) container_pb.set_id(container_id);
  pb::PodSandbox pod_pb;
  const bool known_pod = impl_->podProto(container_pb.pod_sandbox_id(), &pod_pb);
  const pb::PodSandbox* pod = known_pod ? &pod_pb : nullptr;
  return statusOf(impl_->deliver(Event::StartContainer, "StartContainer",
                                 podRequest<pb::StartContainerRequest>(pod, &container_pb), true, pod, &container_pb));
}

#define TOPOD_SIM_CONTAINER_EVENT(function, event, request_type, erase_after)                                       \
  Status RuntimeSim::function(const std::string& container_id) {                                                    \
    pb::Container container_pb;                                                                                     \
    if (!impl_->containerProto(container_id, &container_pb)) container_pb.set_id(container_id);                     \
    pb::PodSandbox pod_pb;                                                                                          \
    const bool known_pod = impl_->podProto(container_pb.pod_sandbox_id(), &pod_pb);                                 \
    const pb::PodSandbox* pod = known_pod ? &pod_pb : nullptr;                                                      \
    Status status = statusOf(impl_->deliver(Event::event, #event, podRequest<pb::request_type>(pod, &container_pb), \
                                            true, pod, &container_pb));                                             \
    if (erase_after) {                                                                                              \
      std::lock_guard<std::mutex> lock(impl_->mu_);                                                                 \
      impl_->containers_.erase(container_id);                                                                       \
    }                                                                                                               \
    return status;                                                                                                  \
  }

TOPOD_SIM_CONTAINER_EVENT(postCreateContainer, PostCreateContainer, PostCreateContainerRequest, false)
TOPOD_SIM_CONTAINER_EVENT(postStartContainer, PostStartContainer, PostStartContainerRequest, false)
TOPOD_SIM_CONTAINER_EVENT(postUpdateContainer, PostUpdateContainer, PostUpdateContainerRequest, false)
TOPOD_SIM_CONTAINER_EVENT(removeContainer, RemoveContainer, RemoveContainerRequest, true)
#undef TOPOD_SIM_CONTAINER_EVENT

Result<std::vector<Update>> RuntimeSim::updateContainer(const std::string& container_id,
                                                        const LinuxResources& requested) {
  pb::UpdateContainerRequest request;
  if (!impl_->containerProto(container_id, request.mutable_container())) {
    request.mutable_container()->set_id(container_id);
  }
  if (!impl_->podProto(request.container().pod_sandbox_id(), request.mutable_pod())) request.clear_pod();
  resourcesToProto(requested, request.mutable_linux_resources());
  auto delivered =
      impl_->deliver(Event::UpdateContainer, "UpdateContainer", request.SerializeAsString(), false, nullptr, nullptr);
  if (!delivered.has_value()) return delivered.error();
  auto answer = parseAnswer<pb::UpdateContainerResponse>(*delivered, "UpdateContainer");
  if (!answer.has_value()) return answer.error();
  return updatesOf(answer->update());
}

Result<std::vector<Update>> RuntimeSim::stopContainer(const std::string& container_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    auto it = impl_->containers_.find(container_id);
    if (it != impl_->containers_.end()) it->second.state = ContainerState::Stopped;
  }
  pb::StopContainerRequest request;
  if (!impl_->containerProto(container_id, request.mutable_container())) {
    request.mutable_container()->set_id(container_id);
  }
  if (!impl_->podProto(request.container().pod_sandbox_id(), request.mutable_pod())) request.clear_pod();
  auto delivered =
      impl_->deliver(Event::StopContainer, "StopContainer", request.SerializeAsString(), false, nullptr, nullptr);
  if (!delivered.has_value()) return delivered.error();
  auto answer = parseAnswer<pb::StopContainerResponse>(*delivered, "StopContainer");
  if (!answer.has_value()) return answer.error();
  return updatesOf(answer->update());
}

}  // namespace topod::nri::sim
