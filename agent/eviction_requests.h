// topod as an EvictionRequest *requester* (docs/eviction.md, "topod as a requester"): when the
// Agent reports a running pod whose allocation it lost (agent/lost_allocation.h), this worker
// creates an EvictionRequest for that pod incarnation through the API, so that the pod is
// evicted (warned first, if it lists a responder) and rescheduled where it fits, instead of
// running on in the shared pool without anyone being told.
//
// One request per pod: the object's name is derived from the requester name and the pod uid
// (kube/eviction_request.h), and a pod already requested is not requested again while it runs
// here, so retries, a second container of the pod, a runtime reconnect and a topod restart all
// end at the same object (POST answers AlreadyExists, counted as done). A failed create is
// retried with backoff (5 s, doubling, at most 5 min) until it works or the pod leaves the node;
// a request the API would refuse as invalid (a pod without a uid) is reported once and dropped.
//
// Metrics: topod_eviction_requests_created_total{reason} (objects created) and
// topod_eviction_request_failures_total{reason} (attempts that failed), both registered up
// front for every reason.
//
// Thread-safety: request() and podRemoved() may be called from any thread and never block on
// the API (the NRI path calls request() under the Agent's lock). One thread of its own runs the
// creates; tick() is the same work, public for tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/lost_allocation.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/eviction_request.h"
#include "metrics/registry.h"

namespace topod::agent {

struct EvictionRequesterOptions {
  std::string requester_name = "topod.io/node-pressure";
  std::chrono::milliseconds retry_initial{5000};
  std::chrono::milliseconds retry_max{300000};
};

struct EvictionRequesterStats {
  uint64_t created = 0;   // POSTs that created an object
  uint64_t existing = 0;  // POSTs answered AlreadyExists: made before (a retry, a restart)
  uint64_t failures = 0;  // POSTs that failed (retried) and requests dropped as invalid
  friend bool operator==(const EvictionRequesterStats&, const EvictionRequesterStats&) = default;
};

// What the worker tells the log: a request created, one that failed and will be retried.
using RequestReporter = std::function<void(bool ok, const std::string& message)>;

class EvictionRequester {
 public:
  // `registry` may be nullptr (no metrics). `api`, `clock` and `registry` must outlive this.
  EvictionRequester(EvictionRequesterOptions options, kube::ObjectClient& api, const Clock& clock,
                    metrics::Registry* registry, RequestReporter report);
  ~EvictionRequester();

  void start();
  void stop();

  // Queues an EvictionRequest for the pod, unless one is queued or made already. Never blocks.
  void request(const LostAllocation& lost);
  // The pod left the node: a queued request is dropped, and a later incarnation may be requested.
  void podRemoved(const std::string& pod_uid);
  // Creates every request that is due; public for tests (the thread calls it).
  void tick();

  EvictionRequesterStats stats() const;
  // Requests not yet made (queued or waiting for a retry).
  std::size_t pending() const;

 private:
  struct Entry {
    kube::EvictionRequestSpec spec;
    std::string container;
    bool done = false;
    int attempts = 0;
    Clock::TimePoint due{};
  };
  void run();
  std::optional<Clock::TimePoint> nextDueLocked() const;

  EvictionRequesterOptions options_;
  kube::ObjectClient& api_;
  const Clock& clock_;
  RequestReporter report_;
  metrics::Registry* registry_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::map<std::string, Entry> by_uid_;
  EvictionRequesterStats stats_;
  bool stopping_ = false;
  bool poke_ = false;
  std::thread thread_;
};

}  // namespace topod::agent
