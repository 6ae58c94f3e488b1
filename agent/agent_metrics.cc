#include "agent/agent_metrics.h"

#include <chrono>
#include <utility>

#include "agent/agent.h"

namespace topod::agent {

namespace {

// NRI hooks: 100 µs to the runtime's default request timeout (2 s), where a hook is cut off.
const std::vector<double> kNriBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,    0.1,    0.25,  0.5,    1,     2};
// Journal appends: a write to the page cache takes microseconds, an fdatasync up to tens of
// milliseconds on a loaded disk.
const std::vector<double> kJournalBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                             0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   1};

double seconds(Clock::Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

AgentMetrics::AgentMetrics(metrics::Registry& registry, const Clock& time)
    : clock(time),
      cpu_pinning_requests(registry.counter("topod_cpu_manager_pinning_requests_total",
                                            "The number of cpu core allocations which required pinning.")),
      cpu_pinning_errors(registry.counter("topod_cpu_manager_pinning_errors_total",
                                          "The number of cpu core allocations which required pinning failed.")),
      memory_pinning_requests(registry.counter("topod_memory_manager_pinning_requests_total",
                                               "The number of memory pages allocations which required pinning.")),
      memory_pinning_errors(registry.counter("topod_memory_manager_pinning_errors_total",
                                             "The number of memory pages allocations which required pinning failed.")),
      admission_requests(registry.counter("topod_topology_manager_admission_requests_total",
                                          "The number of admission requests where resources have to be aligned.")),
      admission_errors(registry.counter("topod_topology_manager_admission_errors_total",
                                        "The number of admission request failures where resources could not be "
                                        "aligned.")),
      // The kubelet's unit and buckets (0.05 ms doubling 15 times), so dashboards carry over.
      admission_duration_ms(registry.histogram("topod_topology_manager_admission_duration_ms",
                                               "Duration in milliseconds to serve a pod admission request.",
                                               metrics::exponentialBuckets(0.05, 2, 15))),
      drift_repairs(registry.counter("topod_drift_repairs_total",
                                     "Containers whose cpuset differed from their placement when the runtime "
                                     "synchronized, and were set again.")) {}

void registerAgentReadings(metrics::Registry& registry, const Agent& agent) {
  registry.gaugeCallback("topod_cpu_manager_exclusive_cpu_allocation_count",
                         "The total number of CPUs exclusively allocated to containers running on this node",
                         [&agent] { return static_cast<double>(agent.pools().exclusive_cpus); });
  registry.gaugeCallback("topod_cpu_manager_shared_pool_size_millicores",
                         "The size of the shared CPU pool for non-guaranteed QoS pods, in millicores.",
                         [&agent] { return 1000.0 * static_cast<double>(agent.pools().shared_cpus); });
  registry.gaugeCallback("topod_containers", "Containers topod knows of (running or stopped with an allocation).",
                         [&agent] { return static_cast<double>(agent.containerCount()); });
  registry.counterCallback("topod_checkpoint_compactions_total",
                           "Journal segments folded into state.json (compactions completed).",
                           [&agent] { return static_cast<double>(agent.compactions()); });
}

std::function<void(JournalOperation, Clock::Duration)> journalObserver(metrics::Registry& registry) {
  metrics::Histogram& append = registry.histogram(
      "topod_journal_append_duration_seconds",
      "Time to append a change to the state journal, with its fdatasync when state_sync is every-change.",
      kJournalBuckets);
  metrics::Histogram& sync = registry.histogram(
      "topod_journal_sync_duration_seconds",
      "Time of the background fdatasync of the state journal (state_sync = background).", kJournalBuckets);
  return [&append, &sync](JournalOperation operation, Clock::Duration took) {
    switch (operation) {
      case JournalOperation::Append: append.observe(seconds(took)); return;
      case JournalOperation::Sync: sync.observe(seconds(took)); return;
    }
  };
}

metrics::Counter& registerNriMetrics(metrics::Registry& registry) {
  MeteredHandler::Event events[MeteredHandler::kEventCount];
  MeteredHandler::registerEvents(registry, events);
  return registry.counter("topod_nri_reconnects_total",
                          "Connections to the runtime after the first one (each one Synchronized).");
}

MeteredHandler::MeteredHandler(nri::EventHandler& inner, metrics::Registry& registry, const Clock& clock)
    : inner_(inner), clock_(clock) {
  registerEvents(registry, events_);
}

void MeteredHandler::registerEvents(metrics::Registry& registry, Event (&events)[kEventCount]) {
  static constexpr std::pair<Index, std::string_view> kNames[] = {
      {kConfigure, "configure"},
      {kSynchronize, "synchronize"},
      {kCreateContainer, "create_container"},
      {kUpdateContainer, "update_container"},
      {kStopContainer, "stop_container"},
      {kRunPodSandbox, "run_pod_sandbox"},
      {kStopPodSandbox, "stop_pod_sandbox"},
      {kRemovePodSandbox, "remove_pod_sandbox"},
      {kUpdatePodSandbox, "update_pod_sandbox"},
      {kPostUpdatePodSandbox, "post_update_pod_sandbox"},
      {kPostCreateContainer, "post_create_container"},
      {kStartContainer, "start_container"},
      {kPostStartContainer, "post_start_container"},
      {kPostUpdateContainer, "post_update_container"},
      {kRemoveContainer, "remove_container"},
  };
  static_assert(std::size(kNames) == kEventCount);
  for (const auto& [index, name] : kNames) {
    const metrics::Labels labels{{"event", std::string(name)}};
    events[index].duration =
        &registry.histogram("topod_nri_request_duration_seconds", "Time topod took to answer an NRI request, by event.",
                            kNriBuckets, labels);
    events[index].errors = &registry.counter(
        "topod_nri_request_errors_total",
        "NRI requests topod answered with an error (which fails the runtime's CRI request), by event.", labels);
  }
}

template <typename Call>
auto MeteredHandler::timed(Index index, Call&& call) {
  const Clock::TimePoint started = clock_.now();
  auto result = std::forward<Call>(call)();
  events_[index].duration->observe(seconds(clock_.now() - started));
  if (!result.has_value()) events_[index].errors->inc();
  return result;
}

void MeteredHandler::onConfigure(const nri::RuntimeInfo& runtime) {
  (void)timed(kConfigure, [&]() -> Status {
    inner_.onConfigure(runtime);
    return okStatus();
  });
}

Result<std::vector<nri::Update>> MeteredHandler::onSynchronize(const std::vector<nri::Pod>& pods,
                                                               const std::vector<nri::Container>& containers) {
  return timed(kSynchronize, [&] { return inner_.onSynchronize(pods, containers); });
}

Result<nri::CreateReply> MeteredHandler::onCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kCreateContainer, [&] { return inner_.onCreateContainer(pod, container); });
}

Result<std::vector<nri::Update>> MeteredHandler::onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                                   const nri::LinuxResources& requested) {
  return timed(kUpdateContainer, [&] { return inner_.onUpdateContainer(pod, container, requested); });
}

Result<std::vector<nri::Update>> MeteredHandler::onStopContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kStopContainer, [&] { return inner_.onStopContainer(pod, container); });
}

Status MeteredHandler::onRunPodSandbox(const nri::Pod& pod) {
  return timed(kRunPodSandbox, [&] { return inner_.onRunPodSandbox(pod); });
}

Status MeteredHandler::onStopPodSandbox(const nri::Pod& pod) {
  return timed(kStopPodSandbox, [&] { return inner_.onStopPodSandbox(pod); });
}

Status MeteredHandler::onRemovePodSandbox(const nri::Pod& pod) {
  return timed(kRemovePodSandbox, [&] { return inner_.onRemovePodSandbox(pod); });
}

Status MeteredHandler::onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources& overhead,
                                          const nri::LinuxResources& resources) {
  return timed(kUpdatePodSandbox, [&] { return inner_.onUpdatePodSandbox(pod, overhead, resources); });
}

Status MeteredHandler::onPostUpdatePodSandbox(const nri::Pod& pod) {
  return timed(kPostUpdatePodSandbox, [&] { return inner_.onPostUpdatePodSandbox(pod); });
}

Status MeteredHandler::onPostCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kPostCreateContainer, [&] { return inner_.onPostCreateContainer(pod, container); });
}

Status MeteredHandler::onStartContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kStartContainer, [&] { return inner_.onStartContainer(pod, container); });
}

Status MeteredHandler::onPostStartContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kPostStartContainer, [&] { return inner_.onPostStartContainer(pod, container); });
}

Status MeteredHandler::onPostUpdateContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kPostUpdateContainer, [&] { return inner_.onPostUpdateContainer(pod, container); });
}

Status MeteredHandler::onRemoveContainer(const nri::Pod& pod, const nri::Container& container) {
  return timed(kRemoveContainer, [&] { return inner_.onRemoveContainer(pod, container); });
}

}  // namespace topod::agent
