#include "kube/publisher.h"

#include <cstdio>

#include "kube/nrt_object.h"

namespace topod::kube {
namespace {

std::string seconds(Clock::Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

std::string resourceVersionOf(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  return rv != metadata->end() && rv->is_string() ? rv->get<std::string>() : "";
}

std::string nrtName(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto name = metadata->find("name");
  return name != metadata->end() && name->is_string() ? name->get<std::string>() : "";
}

// Tries one publishing run makes before giving up until the next retry: a conflict or a
// deletion costs one re-read each, and a server racing us this often is retried later anyway.
constexpr int kSyncAttempts = 4;

}  // namespace

NrtPublisher::NrtPublisher(ObjectClient& client, PublisherOptions options, const Clock& clock, DesiredFn desired,
                           Reporter report, uint64_t seed)
    : client_(client),
      options_(std::move(options)),
      clock_(clock),
      desired_(std::move(desired)),
      report_(std::move(report)),
      backoff_(options_.retry, seed),
      next_resync_(clock.now() + options_.resync_interval) {}

NrtPublisher::~NrtPublisher() {
  stop();
}

void NrtPublisher::markChanged() {
  {
    std::lock_guard lock(mutex_);
    changed_ = true;
    ++change_seq_;
  }
  wake_.notify_one();
}

void NrtPublisher::observe(std::optional<nlohmann::json> current) {
  {
    std::lock_guard lock(mutex_);
    observed_ = std::move(current);
    ++change_seq_;
  }
  wake_.notify_one();
}

void NrtPublisher::watchWith(ListWatcher& source, ObjectWatchOptions options, ObjectWatch::Reporter report) {
  options.collection = kNrtCollection;
  options.label_selector.clear();
  options.field_selector = "metadata.name=" + options_.node_name;
  const std::string name = options_.node_name;
  watch_ = std::make_unique<ObjectWatch>(
      source, std::move(options), clock_,
      [this, name](const nlohmann::json& items) {
        // The selector narrows the list to the node's object; anything else is not ours.
        for (const auto& item : items) {
          if (item.is_object() && nrtName(item) == name) return observe(item);
        }
        observe(std::nullopt);
      },
      [this, name](const WatchEvent& event) {
        if (nrtName(event.object) != name) return;
        if (event.type == "DELETED") return observe(std::nullopt);
        observe(event.object);
      },
      std::move(report));
}

ObjectWatchStats NrtPublisher::watchStats() const {
  return watch_ ? watch_->stats() : ObjectWatchStats{};
}

bool NrtPublisher::adoptObservation() {
  std::optional<std::optional<nlohmann::json>> observed;
  {
    std::lock_guard lock(mutex_);
    observed = std::exchange(observed_, std::nullopt);
  }
  if (!observed) return false;
  // Before anything was read or written (start-up, or after a failure) it is news, not a change.
  const bool foreign = known_.has_value();
  if (!*observed) {
    // Deleted (topod never deletes it): create it again.
    known_.reset();
  } else {
    if (known_ && resourceVersionOf(*known_) == resourceVersionOf(**observed)) return false;  // our own write
    // Someone else's version (or an older echo of ours: a PUT from it then gets a 409 and
    // re-reads, which is still correct).
    known_ = std::move(**observed);
  }
  std::lock_guard lock(mutex_);
  changed_ = true;
  if (foreign) ++stats_.foreign_changes;
  return foreign;
}

PublisherStats NrtPublisher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

Status NrtPublisher::sync(const nlohmann::json& desired, bool reread) {
  const std::string path = nrtPath(options_.node_name);
  if (reread) known_.reset();
  Error last = Error::internal("no attempt");
  for (int attempt = 0; attempt < kSyncAttempts; ++attempt) {
    if (!known_) {
      auto current = client_.get(path);
      if (current) {
        known_ = std::move(*current);
      } else if (current.error().code() == ErrorCode::NotFound) {
        auto created = client_.create(kNrtCollection, desired);
        if (created) {
          known_ = std::move(*created);
          std::lock_guard lock(mutex_);
          ++stats_.writes;
          ++stats_.creates;
          return okStatus();
        }
        last = created.error();
        if (last.code() == ErrorCode::AlreadyExists) continue;  // created meanwhile: read it
        return last;
      } else {
        return current.error();
      }
    }
    if (sameNrtContent(*known_, desired)) return okStatus();
    nlohmann::json body = desired;
    body["metadata"]["resourceVersion"] = resourceVersionOf(*known_);
    auto replaced = client_.replace(path, body);
    if (replaced) {
      known_ = std::move(*replaced);
      std::lock_guard lock(mutex_);
      ++stats_.writes;
      return okStatus();
    }
    last = replaced.error();
    known_.reset();
    if (last.code() == ErrorCode::Aborted) {
      std::lock_guard lock(mutex_);
      ++stats_.conflicts;
      continue;
    }
    if (last.code() == ErrorCode::NotFound) continue;
    return last;
  }
  return last.withContext("gave up after " + std::to_string(kSyncAttempts) + " conflicting writes");
}

Clock::TimePoint NrtPublisher::runOnce() {
  const auto now = clock_.now();
  (void)adoptObservation();
  bool changed;
  {
    std::lock_guard lock(mutex_);
    changed = changed_;
  }
  const bool resync_due = now >= next_resync_;
  const bool retry_due = retry_at_.has_value() && now >= *retry_at_;
  if (retry_at_ && !retry_due) return *retry_at_;  // failing: wait for the retry time
  if (!changed && !resync_due && !retry_due) return next_resync_;
  if (last_write_attempt_ && now < *last_write_attempt_ + options_.min_interval) {
    return *last_write_attempt_ + options_.min_interval;
  }
  {
    std::lock_guard lock(mutex_);
    changed_ = false;
    ++stats_.syncs;
  }
  last_write_attempt_ = now;
  Status status = okStatus();
  auto desired = desired_();
  if (!desired) {
    status = desired.error().withContext("building the object");
  } else {
    status = sync(*desired, resync_due || retry_due);
  }
  if (status) {
    retry_at_.reset();
    next_resync_ = now + options_.resync_interval;
    bool recovered = failed_runs_ > 0;
    failed_runs_ = 0;
    {
      std::lock_guard lock(mutex_);
      stats_.healthy = true;
      stats_.last_success = now;
    }
    if (recovered && report_) report_(true, "NodeResourceTopology " + options_.node_name + " published again");
    return next_resync_;
  }
  // Keep the change pending: the next try rebuilds the object from the then-current state.
  {
    std::lock_guard lock(mutex_);
    changed_ = true;
    ++stats_.failures;
    stats_.healthy = false;
    stats_.last_error = status.error().toString();
  }
  auto wait = backoff_.delay(failed_runs_);
  ++failed_runs_;
  retry_at_ = now + wait;
  if (report_) {
    report_(false, "publishing NodeResourceTopology " + options_.node_name + " failed (" +
                       std::to_string(failed_runs_) + " in a row): " + status.error().toString() + "; retrying in " +
                       seconds(wait));
  }
  return *retry_at_;
}

void NrtPublisher::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] {
    uint64_t seen = 0;
    for (;;) {
      Clock::TimePoint next = runOnce();
      // The watch starts once the object is known, so that its first list cannot predate our
      // own first write (it would report the object missing and cost a needless re-read).
      if (watch_ && known_) watch_->start();
      std::unique_lock wait_lock(mutex_);
      if (stopping_) return;
      // A new markChanged() wakes it early; runOnce() then decides whether the change may be
      // written now or waits for min_interval or a pending retry.
      clock_.waitUntil(wait_lock, wake_, next, [&] { return stopping_ || change_seq_ != seen; });
      if (stopping_) return;
      seen = change_seq_;
    }
  });
}

void NrtPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (watch_) watch_->stop();
}

}  // namespace topod::kube
