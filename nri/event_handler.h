// The interface topod's agent implements to receive NRI events (nri::Plugin calls it).
//
// Threading: every method is called on the plugin's single I/O thread, one at a time, in the
// order the runtime sent the events. A method must answer within the runtime's request timeout
// (RuntimeInfo::request_timeout, 2 s by default) or the runtime disconnects the plugin; do slow
// work elsewhere and push corrections later with Plugin::updateContainers (never from inside a
// handler: the runtime holds its NRI lock while it waits for our answer; docs/nri.md, "Unsolicited
// updates").
//
// Errors: an error returned from any method is sent to the runtime as the call's status, which
// makes the runtime FAIL the CRI request (RunPodSandbox, CreateContainer, ...). Return an error
// only when that is what you want; otherwise answer with an empty decision.
#pragma once

#include <vector>

#include "common/result.h"
#include "nri/types.h"

namespace topod::nri {

class EventHandler {
 public:
  virtual ~EventHandler() = default;

  // The runtime configured the plugin (every (re)connection). Informational.
  virtual void onConfigure(const RuntimeInfo& runtime) { (void)runtime; }

  // The complete current state after each (re)connection: all pods and all non-exited
  // containers, already reassembled when the runtime split it over several messages. Returns
  // updates for existing containers, applied by the runtime. After a reconnect this is the
  // source of truth: anything not listed no longer exists.
  virtual Result<std::vector<Update>> onSynchronize(const std::vector<Pod>& pods,
                                                    const std::vector<Container>& containers) = 0;

  // Decisions.
  virtual Result<CreateReply> onCreateContainer(const Pod& pod, const Container& container) = 0;
  // `requested` is what the kubelet asks for now; an Update for the container itself overlays it.
  virtual Result<std::vector<Update>> onUpdateContainer(const Pod& pod, const Container& container,
                                                        const LinuxResources& requested) = 0;
  // Updates for the remaining containers (e.g. handing the stopped container's CPUs back).
  virtual Result<std::vector<Update>> onStopContainer(const Pod& pod, const Container& container) = 0;

  // Notifications (empty answers). The defaults accept and ignore the event.
  virtual Status onRunPodSandbox(const Pod& pod) {
    (void)pod;
    return okStatus();
  }
  virtual Status onStopPodSandbox(const Pod& pod) {
    (void)pod;
    return okStatus();
  }
  virtual Status onRemovePodSandbox(const Pod& pod) {
    (void)pod;
    return okStatus();
  }
  // NRI >= 0.10: pod-level resources changed (in-place pod resize).
  virtual Status onUpdatePodSandbox(const Pod& pod, const LinuxResources& overhead, const LinuxResources& resources) {
    (void)pod;
    (void)overhead;
    (void)resources;
    return okStatus();
  }
  virtual Status onPostUpdatePodSandbox(const Pod& pod) {
    (void)pod;
    return okStatus();
  }
  virtual Status onPostCreateContainer(const Pod& pod, const Container& container) {
    (void)pod;
    (void)container;
    return okStatus();
  }
  // The container's pid is known from here on.
  virtual Status onStartContainer(const Pod& pod, const Container& container) {
    (void)pod;
    (void)container;
    return okStatus();
  }
  virtual Status onPostStartContainer(const Pod& pod, const Container& container) {
    (void)pod;
    (void)container;
    return okStatus();
  }
  virtual Status onPostUpdateContainer(const Pod& pod, const Container& container) {
    (void)pod;
    (void)container;
    return okStatus();
  }
  virtual Status onRemoveContainer(const Pod& pod, const Container& container) {
    (void)pod;
    (void)container;
    return okStatus();
  }
};

}  // namespace topod::nri
