#include "nri/plugin_service.h"

#include <utility>

#include "nri/event_mask.h"

namespace topod::nri {
namespace {

template <typename Message>
Result<Message> parsePayload(const std::string& payload, std::string_view method) {
  Message message;
  if (!message.ParseFromString(payload)) {
    return Error(ErrorCode::Internal, "NRI " + std::string(method) + " payload of " + std::to_string(payload.size()) +
                                          " bytes is not a valid " + message.GetTypeName());
  }
  return message;
}

template <typename Message>
std::string serialize(const Message& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}

const char* eventName(Event event) {
  switch (event) {
    case Event::RunPodSandbox: return "RunPodSandbox";
    case Event::StopPodSandbox: return "StopPodSandbox";
    case Event::RemovePodSandbox: return "RemovePodSandbox";
    case Event::CreateContainer: return "CreateContainer";
    case Event::PostCreateContainer: return "PostCreateContainer";
    case Event::StartContainer: return "StartContainer";
    case Event::PostStartContainer: return "PostStartContainer";
    case Event::UpdateContainer: return "UpdateContainer";
    case Event::PostUpdateContainer: return "PostUpdateContainer";
    case Event::StopContainer: return "StopContainer";
    case Event::RemoveContainer: return "RemoveContainer";
    case Event::UpdatePodSandbox: return "UpdatePodSandbox";
    case Event::PostUpdatePodSandbox: return "PostUpdatePodSandbox";
    case Event::ValidateContainerAdjustment: return "ValidateContainerAdjustment";
  }
  return "UnknownEvent";
}

// The handler's error becomes the call's status. Never OK, and never UNIMPLEMENTED: NRI >= 0.12
// runtimes read that code as "switch this plugin to StateChange for good".
ttrpc::Response errorResponse(const Error& error) {
  ErrorCode code = error.code();
  if (code == ErrorCode::Ok || code == ErrorCode::Unimplemented) code = ErrorCode::Unknown;
  return {code, error.message(), {}};
}

}  // namespace

PluginService::PluginService(EventMask wanted, EventHandler& handler, std::function<void(const Error&)> report)
    : wanted_(wanted), handler_(handler), report_(std::move(report)) {}

ttrpc::Response PluginService::handle(const ttrpc::Request& request) {
  if (request.service != kPluginServiceName) {
    return {ErrorCode::Unimplemented, "service " + request.service, {}};
  }
  const std::string& method = request.method;
  const std::string& payload = request.payload;
  Result<std::string> result = std::string();
  if (method == "Configure") {
    result = configure(payload);
  } else if (method == "Synchronize") {
    result = synchronize(payload);
  } else if (method == "CreateContainer") {
    result = createContainer(payload);
  } else if (method == "UpdateContainer") {
    result = updateContainer(payload);
  } else if (method == "StopContainer") {
    result = stopContainer(payload);
  } else if (method == "UpdatePodSandbox") {
    result = updatePodSandbox(payload);
  } else if (method == "StateChange") {
    result = stateChange(payload);
  } else if (method == "Shutdown") {
    // Defined upstream but never sent; accept it so a runtime that does send it is not failed.
    result = std::string();
  } else {
    // Dedicated notification RPCs (NRI >= 0.12). All carry the pod in field 1 and, for
    // container events, the container in field 2.
    static const std::map<std::string, Event, std::less<>> kPodEvents = {
        {"RunPodSandbox", Event::RunPodSandbox},
        {"StopPodSandbox", Event::StopPodSandbox},
        {"RemovePodSandbox", Event::RemovePodSandbox},
        {"PostUpdatePodSandbox", Event::PostUpdatePodSandbox}};
    static const std::map<std::string, Event, std::less<>> kContainerEvents = {
        {"PostCreateContainer", Event::PostCreateContainer},
        {"StartContainer", Event::StartContainer},
        {"PostStartContainer", Event::PostStartContainer},
        {"PostUpdateContainer", Event::PostUpdateContainer},
        {"RemoveContainer", Event::RemoveContainer}};
    if (auto it = kPodEvents.find(method); it != kPodEvents.end()) {
      auto request_pb = parsePayload<pb::RunPodSandboxRequest>(payload, method);
      if (!request_pb.has_value()) return errorResponse(request_pb.error());
      Status status = podEvent(it->second, request_pb->has_pod() ? &request_pb->pod() : nullptr);
      if (!status.has_value()) return errorResponse(status.error());
    } else if (auto cit = kContainerEvents.find(method); cit != kContainerEvents.end()) {
      auto request_pb = parsePayload<pb::StartContainerRequest>(payload, method);
      if (!request_pb.has_value()) return errorResponse(request_pb.error());
      Status status =
          containerEvent(cit->second, request_pb->has_pod() ? &request_pb->pod() : nullptr, request_pb->container());
      if (!status.has_value()) return errorResponse(status.error());
    } else {
      // Includes ValidateContainerAdjustment: topod is not a validator and never subscribes.
      return {ErrorCode::Unimplemented, "method " + method, {}};
    }
  }
  if (!result.has_value()) return errorResponse(result.error());
  return {ErrorCode::Ok, {}, std::move(*result)};
}

Result<std::string> PluginService::configure(const std::string& payload) {
  auto request = parsePayload<pb::ConfigureRequest>(payload, "Configure");
  if (!request.has_value()) return request.error();
  RuntimeInfo info;
  info.name = request->runtime_name();
  info.version = request->runtime_version();
  info.nri_version = request->nri_version();
  info.config = request->config();
  info.registration_timeout = std::chrono::milliseconds(request->registration_timeout());
  info.request_timeout = std::chrono::milliseconds(request->request_timeout());
  info.valid_events = validEventsFor(info.name, info.version, info.nri_version);
  auto mask = chooseEventMask(wanted_, info.valid_events);
  if (!mask.has_value()) {
    return mask.error().withContext("configuring for runtime " + info.name + " " + info.version);
  }
  info.subscribed = *mask;
  runtime_ = info;
  configured_ = true;
  synchronized_ = false;
  sync_pods_.clear();
  sync_containers_.clear();
  handler_.onConfigure(runtime_);
  pb::ConfigureResponse response;
  response.set_events(static_cast<int32_t>(*mask));
  return serialize(response);
}

Result<std::string> PluginService::synchronize(const std::string& payload) {
  auto request = parsePayload<pb::SynchronizeRequest>(payload, "Synchronize");
  if (!request.has_value()) return request.error();
  // A bad object is reported and skipped rather than failing the whole sync (which would make
  // the runtime drop us, and the next attempt would see the same object).
  for (const pb::PodSandbox& pod_pb : request->pods()) {
    auto pod = podFromProto(pod_pb);
    if (pod.has_value()) {
      sync_pods_.push_back(std::move(*pod));
    } else {
      report_(pod.error().withContext("Synchronize: skipping pod " + pod_pb.id()));
    }
  }
  for (const pb::Container& container_pb : request->containers()) {
    auto container = containerFromProto(container_pb);
    if (container.has_value()) {
      sync_containers_.push_back(std::move(*container));
    } else {
      report_(container.error().withContext("Synchronize: skipping container " + container_pb.id()));
    }
  }
  pb::SynchronizeResponse response;
  if (request->more()) {
    // Partial message: echo `more`, no updates yet (docs/nri.md, "Split Synchronize").
    response.set_more(true);
    return serialize(response);
  }
  pods_.clear();
  for (const Pod& pod : sync_pods_) pods_[pod.id] = pod;
  std::vector<Pod> pods = std::move(sync_pods_);
  std::vector<Container> containers = std::move(sync_containers_);
  sync_pods_.clear();
  sync_containers_.clear();
  auto updates = handler_.onSynchronize(pods, containers);
  if (!updates.has_value()) return updates.error();
  for (const Update& update : *updates) updateToProto(update, response.add_update());
  synchronized_ = true;
  return serialize(response);
}

Result<Pod> PluginService::resolvePod(const pb::PodSandbox* pod_pb, const Container* container, Event event) {
  Pod pod;
  if (pod_pb != nullptr && !pod_pb->id().empty()) {
    auto converted = podFromProto(*pod_pb);
    if (!converted.has_value()) return converted.error().withContext(eventName(event));
    pod = std::move(*converted);
    pods_[pod.id] = pod;
  } else {
    const std::string pod_id = container != nullptr ? container->pod_id : std::string();
    auto it = pods_.find(pod_id);
    if (it == pods_.end()) {
      return Error::notFound(std::string(eventName(event)) + " for " +
                             (container != nullptr ? "container " + container->id + " of " : "") + "unknown pod \"" +
                             pod_id + "\"");
    }
    pod = it->second;
  }
  return pod;
}

Status PluginService::podEvent(Event event, const pb::PodSandbox* pod_pb) {
  auto pod = resolvePod(pod_pb, nullptr, event);
  if (!pod.has_value()) {
    // A notification we cannot place is reported, not failed: failing it would fail the
    // kubelet's request for something topod does not manage.
    report_(pod.error());
    return okStatus();
  }
  switch (event) {
    case Event::RunPodSandbox: return handler_.onRunPodSandbox(*pod);
    case Event::StopPodSandbox: return handler_.onStopPodSandbox(*pod);
    case Event::RemovePodSandbox: {
      pods_.erase(pod->id);
      return handler_.onRemovePodSandbox(*pod);
    }
    case Event::PostUpdatePodSandbox: return handler_.onPostUpdatePodSandbox(*pod);
    case Event::CreateContainer:
    case Event::PostCreateContainer:
    case Event::StartContainer:
    case Event::PostStartContainer:
    case Event::UpdateContainer:
    case Event::PostUpdateContainer:
    case Event::StopContainer:
    case Event::RemoveContainer:
    case Event::UpdatePodSandbox:
    case Event::ValidateContainerAdjustment: break;
  }
  report_(Error::invalidArgument(std::string("StateChange carries ") + eventName(event) + " as a pod event"));
  return okStatus();
}

Status PluginService::containerEvent(Event event, const pb::PodSandbox* pod_pb, const pb::Container& container_pb) {
  auto container = containerFromProto(container_pb);
  if (!container.has_value()) {
    report_(container.error().withContext(eventName(event)));
    return okStatus();
  }
  auto pod = resolvePod(pod_pb, &*container, event);
  if (!pod.has_value()) {
    report_(pod.error());
    return okStatus();
  }
  switch (event) {
    case Event::PostCreateContainer: return handler_.onPostCreateContainer(*pod, *container);
    case Event::StartContainer: return handler_.onStartContainer(*pod, *container);
    case Event::PostStartContainer: return handler_.onPostStartContainer(*pod, *container);
    case Event::PostUpdateContainer: return handler_.onPostUpdateContainer(*pod, *container);
    case Event::RemoveContainer: return handler_.onRemoveContainer(*pod, *container);
    case Event::RunPodSandbox:
    case Event::StopPodSandbox:
    case Event::RemovePodSandbox:
    case Event::CreateContainer:
    case Event::UpdateContainer:
    case Event::StopContainer:
    case Event::UpdatePodSandbox:
    case Event::PostUpdatePodSandbox:
    case Event::ValidateContainerAdjustment: break;
  }
  report_(
      Error::invalidArgument(std::string("StateChange carries ") + eventName(event) + " as a container notification"));
  return okStatus();
}

Result<std::string> PluginService::createContainer(const std::string& payload) {
  auto request = parsePayload<pb::CreateContainerRequest>(payload, "CreateContainer");
  if (!request.has_value()) return request.error();
  pb::CreateContainerResponse response;
  auto container = containerFromProto(request->container());
  if (!container.has_value()) return container.error().withContext("CreateContainer");
  auto pod = resolvePod(request->has_pod() ? &request->pod() : nullptr, &*container, Event::CreateContainer);
  if (!pod.has_value()) {
    // Without its pod topod cannot place the container; leave it as the kubelet asked.
    report_(pod.error());
    return serialize(response);
  }
  auto reply = handler_.onCreateContainer(*pod, *container);
  if (!reply.has_value()) return reply.error();
  adjustmentToProto(reply->adjustment, response.mutable_adjust());
  for (const Update& update : reply->updates) updateToProto(update, response.add_update());
  return serialize(response);
}

Result<std::string> PluginService::updateContainer(const std::string& payload) {
  auto request = parsePayload<pb::UpdateContainerRequest>(payload, "UpdateContainer");
  if (!request.has_value()) return request.error();
  pb::UpdateContainerResponse response;
  auto container = containerFromProto(request->container());
  if (!container.has_value()) return container.error().withContext("UpdateContainer");
  auto requested = resourcesFromProto(request->linux_resources());
  if (!requested.has_value()) return requested.error().withContext("UpdateContainer " + container->id);
  auto pod = resolvePod(request->has_pod() ? &request->pod() : nullptr, &*container, Event::UpdateContainer);
  if (!pod.has_value()) {
    report_(pod.error());
    return serialize(response);
  }
  auto updates = handler_.onUpdateContainer(*pod, *container, *requested);
  if (!updates.has_value()) return updates.error();
  for (const Update& update : *updates) updateToProto(update, response.add_update());
  return serialize(response);
}

Result<std::string> PluginService::stopContainer(const std::string& payload) {
  auto request = parsePayload<pb::StopContainerRequest>(payload, "StopContainer");
  if (!request.has_value()) return request.error();
  pb::StopContainerResponse response;
  auto container = containerFromProto(request->container());
  if (!container.has_value()) return container.error().withContext("StopContainer");
  auto pod = resolvePod(request->has_pod() ? &request->pod() : nullptr, &*container, Event::StopContainer);
  if (!pod.has_value()) {
    report_(pod.error());
    return serialize(response);
  }
  auto updates = handler_.onStopContainer(*pod, *container);
  if (!updates.has_value()) return updates.error();
  for (const Update& update : *updates) updateToProto(update, response.add_update());
  return serialize(response);
}

Result<std::string> PluginService::updatePodSandbox(const std::string& payload) {
  auto request = parsePayload<pb::UpdatePodSandboxRequest>(payload, "UpdatePodSandbox");
  if (!request.has_value()) return request.error();
  auto overhead = resourcesFromProto(request->overhead_linux_resources());
  if (!overhead.has_value()) return overhead.error().withContext("UpdatePodSandbox overhead");
  auto resources = resourcesFromProto(request->linux_resources());
  if (!resources.has_value()) return resources.error().withContext("UpdatePodSandbox resources");
  auto pod = resolvePod(request->has_pod() ? &request->pod() : nullptr, nullptr, Event::UpdatePodSandbox);
  if (!pod.has_value()) {
    report_(pod.error());
    return serialize(pb::UpdatePodSandboxResponse());
  }
  TOPOD_RETURN_IF_ERROR(handler_.onUpdatePodSandbox(*pod, *overhead, *resources));
  return serialize(pb::UpdatePodSandboxResponse());
}

Result<std::string> PluginService::stateChange(const std::string& payload) {
  auto request = parsePayload<pb::StateChangeEvent>(payload, "StateChange");
  if (!request.has_value()) return request.error();
  const int value = static_cast<int>(request->event());
  const pb::PodSandbox* pod = request->has_pod() ? &request->pod() : nullptr;
  switch (value) {
    case static_cast<int>(Event::RunPodSandbox):
    case static_cast<int>(Event::StopPodSandbox):
    case static_cast<int>(Event::RemovePodSandbox):
    case static_cast<int>(Event::PostUpdatePodSandbox):
      TOPOD_RETURN_IF_ERROR(podEvent(static_cast<Event>(value), pod));
      break;
    case static_cast<int>(Event::PostCreateContainer):
    case static_cast<int>(Event::StartContainer):
    case static_cast<int>(Event::PostStartContainer):
    case static_cast<int>(Event::PostUpdateContainer):
    case static_cast<int>(Event::RemoveContainer):
      TOPOD_RETURN_IF_ERROR(containerEvent(static_cast<Event>(value), pod, request->container()));
      break;
    default:
      // An event StateChange never carries (or a newer one): accept, report, ignore.
      report_(Error::invalidArgument("StateChange with unexpected event " + std::to_string(value)));
      break;
  }
  return serialize(pb::Empty());
}

}  // namespace topod::nri
