#include "agent/eviction_requests.h"

#include <algorithm>
#include <utility>

namespace topod::agent {
namespace {

constexpr const char* kCreatedMetric = "topod_eviction_requests_created_total";
constexpr const char* kCreatedHelp = "EvictionRequests topod created for pods whose allocation it lost, by reason";
constexpr const char* kFailedMetric = "topod_eviction_request_failures_total";
constexpr const char* kFailedHelp = "EvictionRequests topod failed to create (retried), by reason";

metrics::Counter* counterFor(metrics::Registry* registry, const char* name, const char* help, std::string_view reason) {
  if (registry == nullptr) return nullptr;
  return &registry->counter(name, help, metrics::Labels{{"reason", std::string(reason)}});
}

std::string describePod(const kube::EvictionRequestSpec& spec) {
  return spec.namespace_name + "/" + spec.pod_name + " (" + spec.pod_uid + ")";
}

}  // namespace

EvictionRequester::EvictionRequester(EvictionRequesterOptions options, kube::ObjectClient& api, const Clock& clock,
                                     metrics::Registry* registry, RequestReporter report)
    : options_(std::move(options)), api_(api), clock_(clock), report_(std::move(report)), registry_(registry) {
  // Every series exists from the first scrape: one that appears with its first event loses that
  // event to rate().
  for (auto reason : {LostAllocationReason::CpusShrunk, LostAllocationReason::NotHonouredAfterRestart}) {
    (void)counterFor(registry_, kCreatedMetric, kCreatedHelp, lostAllocationReasonName(reason));
    (void)counterFor(registry_, kFailedMetric, kFailedHelp, lostAllocationReasonName(reason));
  }
}

EvictionRequester::~EvictionRequester() {
  stop();
}

void EvictionRequester::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void EvictionRequester::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EvictionRequester::request(const LostAllocation& lost) {
  {
    std::lock_guard lock(mutex_);
    if (by_uid_.contains(lost.pod_uid)) return;  // queued, or made: one request per pod
    Entry entry;
    entry.spec = kube::EvictionRequestSpec{
        .namespace_name = lost.pod_namespace,
        .pod_name = lost.pod_name,
        .pod_uid = lost.pod_uid,
        .requester = options_.requester_name,
        .reason = std::string(lostAllocationReasonName(lost.reason)),
        .message = "topod cannot honour the allocation of container " + lost.container +
                   " any more and would run it unpinned: " + lost.why,
    };
    entry.container = lost.container;
    entry.due = clock_.now();
    by_uid_.emplace(lost.pod_uid, std::move(entry));
    poke_ = true;
  }
  wake_.notify_all();
}

void EvictionRequester::podRemoved(const std::string& pod_uid) {
  std::lock_guard lock(mutex_);
  by_uid_.erase(pod_uid);
}

void EvictionRequester::tick() {
  // Take the due entries, make the calls without the lock, then record the outcomes.
  std::vector<Entry> due;
  {
    std::lock_guard lock(mutex_);
    const Clock::TimePoint now = clock_.now();
    for (const auto& [uid, entry] : by_uid_) {
      if (!entry.done && entry.due <= now) due.push_back(entry);
    }
  }
  for (const Entry& entry : due) {
    const kube::EvictionRequestSpec& spec = entry.spec;
    metrics::Counter* created = counterFor(registry_, kCreatedMetric, kCreatedHelp, spec.reason);
    metrics::Counter* failed = counterFor(registry_, kFailedMetric, kFailedHelp, spec.reason);
    auto object = kube::evictionRequestObject(spec);
    if (!object.has_value()) {
      // Nothing a retry would change: say so once and forget the pod (it stays unpinned).
      if (failed != nullptr) failed->inc();
      {
        std::lock_guard lock(mutex_);
        ++stats_.failures;
        auto it = by_uid_.find(spec.pod_uid);
        if (it != by_uid_.end()) it->second.done = true;
      }
      report_(false, "eviction request for " + describePod(spec) + " (" + spec.reason +
                         ") cannot be made: " + object.error().message() + "; the pod runs unpinned");
      continue;
    }
    auto made = api_.create(kube::evictionRequestsCollection(spec.namespace_name), *object);
    const bool existing = !made.has_value() && made.error().code() == ErrorCode::AlreadyExists;
    std::lock_guard lock(mutex_);
    auto it = by_uid_.find(spec.pod_uid);
    if (made.has_value() || existing) {
      if (existing) {
        ++stats_.existing;
      } else {
        ++stats_.created;
        if (created != nullptr) created->inc();
      }
      if (it != by_uid_.end()) it->second.done = true;
      report_(true, std::string(existing ? "eviction request already made" : "created an eviction request") + " for " +
                        describePod(spec) + " as " + spec.requester + " (" + spec.reason + "): " + spec.message);
      continue;
    }
    ++stats_.failures;
    if (failed != nullptr) failed->inc();
    if (it == by_uid_.end()) continue;  // the pod left meanwhile
    Entry& pending = it->second;
    ++pending.attempts;
    // 5 s, 10 s, 20 s, ... at most retry_max: the API server may be down for a while.
    auto wait = options_.retry_initial;
    for (int i = 1; i < pending.attempts && wait < options_.retry_max; ++i) wait *= 2;
    wait = std::min(wait, options_.retry_max);
    pending.due = clock_.now() + wait;
    report_(false, "eviction request for " + describePod(spec) + " (" + spec.reason + ") failed: " +
                       made.error().toString() + "; retrying in " + std::to_string(wait.count()) + " ms");
  }
}

std::optional<Clock::TimePoint> EvictionRequester::nextDueLocked() const {
  std::optional<Clock::TimePoint> next;
  for (const auto& [uid, entry] : by_uid_) {
    if (entry.done) continue;
    if (!next || entry.due < *next) next = entry.due;
  }
  return next;
}

void EvictionRequester::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Nothing due: sleep until a request comes (a day stands for "forever" on the clock).
    constexpr auto kIdle = std::chrono::hours(24);
    const Clock::TimePoint deadline = nextDueLocked().value_or(clock_.now() + kIdle);
    clock_.waitUntil(lock, wake_, deadline, [this] { return stopping_ || poke_; });
    if (stopping_) break;
    poke_ = false;
    lock.unlock();
    tick();
    lock.lock();
  }
}

EvictionRequesterStats EvictionRequester::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t EvictionRequester::pending() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(by_uid_.begin(), by_uid_.end(), [](const auto& item) { return !item.second.done; }));
}

}  // namespace topod::agent
