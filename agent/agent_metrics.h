// The agent's metrics (docs/metrics.md lists every one): what the Agent records on its event
// path, the NRI hook latencies (MeteredHandler), the journal's timings, and the values read from
// the Agent when Prometheus scrapes. Names are the kubelet's where the meaning is the same, with
// topod_ in place of kubelet_ (both may run on one node: the kubelet with its managers set to
// none still exports its own, at zero); topod's own names follow the same conventions.
//
// Thread-safety: the metrics are the registry's (lock-free counters, short-locked histograms);
// every function here may be called from any thread.
#pragma once

#include <functional>
#include <string_view>

#include "common/clock.h"
#include "metrics/registry.h"
#include "nri/event_handler.h"
#include "state/checkpoint.h"

namespace topod::agent {

class Agent;

// Recorded by the Agent (AgentOptions::metrics). Registered in `registry`, which must outlive it.
struct AgentMetrics {
  AgentMetrics(metrics::Registry& registry, const Clock& clock);

  const Clock& clock;
  // A CreateContainer of a container that asks for exclusive CPUs (a Guaranteed pod, whole CPUs:
  // the kubelet's static policy rule), and of those, the ones refused.
  metrics::Counter& cpu_pinning_requests;
  metrics::Counter& cpu_pinning_errors;
  // With the static memory manager: a CreateContainer in a Guaranteed pod, and the refused ones.
  metrics::Counter& memory_pinning_requests;
  metrics::Counter& memory_pinning_errors;
  // Every CreateContainer (the kubelet's topology manager admits every pod), the refused ones,
  // and the time from the request to the decision journaled, in milliseconds as the kubelet's.
  metrics::Counter& admission_requests;
  metrics::Counter& admission_errors;
  metrics::Histogram& admission_duration_ms;
  // Containers whose cpuset differed from their placement at a Synchronize and were re-applied.
  metrics::Counter& drift_repairs;
};

// Registers the values read from `agent` at scrape time: exclusive CPUs, the shared pool's size,
// containers known, checkpoint compactions. `agent` must outlive the registry's rendering.
void registerAgentReadings(metrics::Registry& registry, const Agent& agent);

// A CheckpointOptions::observe_journal that feeds topod_journal_{append,sync}_duration_seconds.
std::function<void(JournalOperation, Clock::Duration)> journalObserver(metrics::Registry& registry);

// Registers the NRI metrics up front (the per-event histograms and error counters MeteredHandler
// records, the reconnect counter), so that they read 0 from the first scrape on, before the
// runtime is there: a series that appears only with its first event loses that event to rate().
// Returns the reconnect counter.
metrics::Counter& registerNriMetrics(metrics::Registry& registry);

// Forwards every NRI event to `inner` and records how long it took, per event, in
// topod_nri_request_duration_seconds{event}, and the ones answered with an error in
// topod_nri_request_errors_total{event}: the hook latencies the runtime's request timeout is
// measured against. Thread-safe as `inner` is; adds a clock read and a histogram update per event.
class MeteredHandler final : public nri::EventHandler {
 public:
  MeteredHandler(nri::EventHandler& inner, metrics::Registry& registry, const Clock& clock);

  void onConfigure(const nri::RuntimeInfo& runtime) override;
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>& pods,
                                                 const std::vector<nri::Container>& containers) override;
  Result<nri::CreateReply> onCreateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                     const nri::LinuxResources& requested) override;
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onRunPodSandbox(const nri::Pod& pod) override;
  Status onStopPodSandbox(const nri::Pod& pod) override;
  Status onRemovePodSandbox(const nri::Pod& pod) override;
  Status onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources& overhead,
                            const nri::LinuxResources& resources) override;
  Status onPostUpdatePodSandbox(const nri::Pod& pod) override;
  Status onPostCreateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onStartContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onPostStartContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onPostUpdateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onRemoveContainer(const nri::Pod& pod, const nri::Container& container) override;

 private:
  // One per event: its histogram and error counter, registered up front.
  struct Event {
    metrics::Histogram* duration;
    metrics::Counter* errors;
  };
  enum Index {
    kConfigure,
    kSynchronize,
    kCreateContainer,
    kUpdateContainer,
    kStopContainer,
    kRunPodSandbox,
    kStopPodSandbox,
    kRemovePodSandbox,
    kUpdatePodSandbox,
    kPostUpdatePodSandbox,
    kPostCreateContainer,
    kStartContainer,
    kPostStartContainer,
    kPostUpdateContainer,
    kRemoveContainer,
    kEventCount
  };
  template <typename Call>
  auto timed(Index index, Call&& call);
  friend metrics::Counter& registerNriMetrics(metrics::Registry& registry);
  static void registerEvents(metrics::Registry& registry, Event (&events)[kEventCount]);

  nri::EventHandler& inner_;
  const Clock& clock_;
  Event events_[kEventCount];
};

}  // namespace topod::agent
