// FakeObjectClient: an in-memory API server for one kind of object, with the semantics the
// publisher relies on: resourceVersion bumped on every write, PUT with a stale resourceVersion
// -> 409 (Aborted), PUT/GET of a missing object -> 404, POST of an existing one -> AlreadyExists.
// Tests can make the next calls fail (`fail_next`), edit or delete objects behind the client's
// back, and read the request log. Thread-safe.
// It also lists and watches (ListWatcher) from a history of every write and deletion: a watch
// from a version older than compactHistory() left gets 410 (OutOfRange); fieldSelector supports
// "metadata.name=<name>"; a watch waits for new events until cancelled, `timeout` (real time) or
// endWatches().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client.h"

namespace topod::testing {

class FakeObjectClient final : public kube::ObjectClient, public kube::ListWatcher {
 public:
  Result<nlohmann::json> get(const std::string& path) override {
    std::lock_guard lock(mutex_);
    log_.push_back("GET " + path);
    if (auto e = injected()) return *e;
    auto it = objects_.find(path);
    if (it == objects_.end()) return Error::notFound("GET " + path + ": 404");
    return it->second;
  }
  Result<nlohmann::json> create(const std::string& collection, const nlohmann::json& object) override {
    std::lock_guard lock(mutex_);
    std::string path = collection + "/" + object["metadata"]["name"].get<std::string>();
    log_.push_back("POST " + path);
    if (auto e = injected()) return *e;
    if (objects_.contains(path)) return Error{ErrorCode::AlreadyExists, "POST " + path + ": 409 AlreadyExists"};
    return store(path, object);
  }
  Result<nlohmann::json> replace(const std::string& path, const nlohmann::json& object) override {
    std::lock_guard lock(mutex_);
    log_.push_back("PUT " + path);
    if (auto e = injected()) return *e;
    auto it = objects_.find(path);
    if (it == objects_.end()) return Error::notFound("PUT " + path + ": 404");
    if (object["metadata"].value("resourceVersion", "") != it->second["metadata"]["resourceVersion"]) {
      return Error{ErrorCode::Aborted, "PUT " + path + ": 409 Conflict"};
    }
    return store(path, object);
  }
  Status remove(const std::string& path) override {
    std::lock_guard lock(mutex_);
    log_.push_back("DELETE " + path);
    auto it = objects_.find(path);
    if (it == objects_.end()) return Error::notFound("DELETE " + path + ": 404");
    erase(it);
    return okStatus();
  }

  Result<kube::ListResult> list(const std::string& collection, const kube::WatchOptions& options) override {
    std::lock_guard lock(mutex_);
    log_.push_back("LIST " + collection + " " + options.field_selector);
    if (auto e = injected()) return *e;
    kube::ListResult out;
    for (const auto& [path, object] : objects_) {
      if (matches(collection, options, object, path)) out.items.push_back(object);
    }
    out.resource_version = std::to_string(version_);
    return out;
  }
  Result<std::string> watch(const std::string& collection, const std::string& resource_version,
                            std::chrono::seconds timeout, const kube::WatchOptions& options,
                            const std::function<bool(const kube::WatchEvent&)>& on_event) override {
    std::unique_lock lock(mutex_);
    log_.push_back("WATCH " + collection + " " + options.field_selector + " from " + resource_version);
    if (auto e = injected()) return *e;
    uint64_t from = std::stoull(resource_version);
    if (from < compacted_) return Error{ErrorCode::OutOfRange, "WATCH " + collection + ": 410 Gone"};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const uint64_t generation = watch_generation_;
    for (;;) {
      if (from < compacted_) return Error{ErrorCode::OutOfRange, "WATCH " + collection + ": 410 Gone"};
      for (const auto& [version, event, path] : history_) {
        if (version <= from || !matches(collection, options, event.object, path)) continue;
        from = version;
        kube::WatchEvent copy = event;
        lock.unlock();
        bool more = on_event(copy);
        lock.lock();
        if (!more) return std::to_string(from);
        break;  // the history may have changed meanwhile: scan again
      }
      if (lastVersionAfter(from, collection, options)) continue;
      if (options.cancelled && options.cancelled()) return std::to_string(from);
      if (watch_generation_ != generation || std::chrono::steady_clock::now() >= deadline) {
        return std::to_string(from);
      }
      // Polls the cancel flag like the real transport does (it cannot notify a condition).
      written_.wait_for(lock, std::chrono::milliseconds(10));
    }
  }

  // Test controls.
  void failNext(Error error, int times = 1) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < times; ++i) fail_next_.push_back(error);
  }
  void failAlways(std::optional<Error> error) {
    std::lock_guard lock(mutex_);
    fail_always_ = std::move(error);
  }
  // Someone else writes or deletes the object.
  void putBehindBack(const std::string& path, nlohmann::json object) {
    std::lock_guard lock(mutex_);
    store(path, std::move(object));
  }
  void deleteBehindBack(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(path);
    if (it != objects_.end()) erase(it);
  }
  // Forgets the history up to now: watches from older versions (open ones included) get 410 Gone.
  void compactHistory() {
    std::lock_guard lock(mutex_);
    history_.clear();
    compacted_ = version_;
  }
  // Ends the watches now open (as a server does at timeoutSeconds).
  void endWatches() {
    std::lock_guard lock(mutex_);
    ++watch_generation_;
    written_.notify_all();
  }
  std::optional<nlohmann::json> object(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(path);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Blocks until the object at `path` satisfies `ready` or `timeout` passes (for tests that run
  // the publisher's real thread); true when it did.
  bool waitFor(const std::string& path, const std::function<bool(const nlohmann::json&)>& ready,
               std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return written_.wait_for(lock, timeout, [&] {
      auto it = objects_.find(path);
      return it != objects_.end() && ready(it->second);
    });
  }
  std::vector<std::string> takeLog() {
    std::lock_guard lock(mutex_);
    return std::exchange(log_, {});
  }

 private:
  std::optional<Error> injected() {
    if (fail_always_) return fail_always_;
    if (fail_next_.empty()) return std::nullopt;
    Error e = fail_next_.front();
    fail_next_.pop_front();
    return e;
  }
  nlohmann::json store(const std::string& path, nlohmann::json object) {
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    bool existed = objects_.contains(path);
    objects_[path] = object;
    history_.push_back({version_, kube::WatchEvent{existed ? "MODIFIED" : "ADDED", object}, path});
    written_.notify_all();
    return object;
  }
  void erase(std::map<std::string, nlohmann::json>::iterator it) {
    nlohmann::json object = it->second;
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    history_.push_back({version_, kube::WatchEvent{"DELETED", object}, it->first});
    objects_.erase(it);
    written_.notify_all();
  }
  static bool matches(const std::string& collection, const kube::WatchOptions& options, const nlohmann::json& object,
                      const std::string& path) {
    if (path.rfind(collection + "/", 0) != 0) return false;
    const std::string prefix = "metadata.name=";
    if (options.field_selector.empty()) return true;
    if (options.field_selector.rfind(prefix, 0) != 0) return false;
    return object["metadata"].value("name", "") == options.field_selector.substr(prefix.size());
  }
  bool lastVersionAfter(uint64_t from, const std::string& collection, const kube::WatchOptions& options) const {
    for (const auto& [version, event, path] : history_) {
      if (version > from && matches(collection, options, event.object, path)) return true;
    }
    return false;
  }

  struct HistoryEntry {
    uint64_t version;
    kube::WatchEvent event;
    std::string path;
  };

  mutable std::mutex mutex_;
  std::condition_variable written_;
  std::map<std::string, nlohmann::json> objects_;
  std::deque<Error> fail_next_;
  std::optional<Error> fail_always_;
  std::vector<std::string> log_;
  uint64_t version_ = 100;
  std::vector<HistoryEntry> history_;
  uint64_t compacted_ = 0;
  uint64_t watch_generation_ = 0;
};

}  // namespace topod::testing
