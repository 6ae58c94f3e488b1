#include "kube/object_watch.h"

#include <cstdio>

namespace topod::kube {

ObjectWatch::ObjectWatch(ListWatcher& source, ObjectWatchOptions options, const Clock& clock, ListFn on_list,
                         EventFn on_event, Reporter report, uint64_t seed)
    : source_(source),
      options_(std::move(options)),
      clock_(clock),
      on_list_(std::move(on_list)),
      on_event_(std::move(on_event)),
      report_(std::move(report)),
      backoff_(options_.retry, seed) {}

ObjectWatch::~ObjectWatch() {
  stop();
}

void ObjectWatch::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
}

void ObjectWatch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

ObjectWatchStats ObjectWatch::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool ObjectWatch::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool ObjectWatch::pause(Clock::Duration delay) {
  std::unique_lock lock(mutex_);
  clock_.waitUntil(lock, wake_, clock_.now() + delay, [&] { return stopping_; });
  return !stopping_;
}

void ObjectWatch::fail(const Error& error, const char* what) {
  auto delay = backoff_.delay(failed_in_a_row_);
  ++failed_in_a_row_;
  {
    std::lock_guard lock(mutex_);
    ++stats_.failures;
    stats_.last_error = error.toString();
  }
  if (report_) {
    char wait[32];
    std::snprintf(wait, sizeof wait, "%.1f s", std::chrono::duration<double>(delay).count());
    report_(false, std::string(what) + " " + options_.collection + " failed (" + std::to_string(failed_in_a_row_) +
                       " in a row): " + error.toString() + "; retrying in " + wait);
  }
  pause(delay);
}

void ObjectWatch::run() {
  WatchOptions narrow{.label_selector = options_.label_selector,
                      .field_selector = options_.field_selector,
                      .cancelled = [this] { return stopping(); }};
  std::string version;  // empty: list first
  while (!stopping()) {
    if (version.empty()) {
      auto listed = source_.list(options_.collection, narrow);
      if (!listed) {
        fail(listed.error(), "listing");
        continue;
      }
      on_list_(listed->items);
      {
        std::lock_guard lock(mutex_);
        ++stats_.lists;
      }
      version = listed->resource_version;
      if (version.empty()) version = "0";  // a server that sends none: watch from any version
    }
    auto next =
        source_.watch(options_.collection, version, options_.watch_timeout, narrow, [this](const WatchEvent& event) {
          {
            std::lock_guard lock(mutex_);
            ++stats_.events;
          }
          on_event_(event);
          return true;
        });
    if (next) {
      version = *next;
      {
        std::lock_guard lock(mutex_);
        ++stats_.watches;
      }
      if (failed_in_a_row_ > 0 && report_) report_(true, "watching " + options_.collection + " again");
      failed_in_a_row_ = 0;
      continue;
    }
    if (next.error().code() == ErrorCode::OutOfRange) {
      // The version is older than the server keeps: what happened since is unknown, so list.
      version.clear();
      std::lock_guard lock(mutex_);
      ++stats_.relists;
      continue;
    }
    fail(next.error(), "watching");
  }
}

}  // namespace topod::kube
