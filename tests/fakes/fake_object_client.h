// FakeObjectClient: an in-memory API server for one kind of object, with the semantics the
// publisher relies on: resourceVersion bumped on every write, PUT with a stale resourceVersion
// -> 409 (Aborted), PUT/GET of a missing object -> 404, POST of an existing one -> AlreadyExists.
// Tests can make the next calls fail (`fail_next`), edit or delete objects behind the client's
// back, and read the request log. Thread-safe.
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

class FakeObjectClient final : public kube::ObjectClient {
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
    if (objects_.erase(path) == 0) return Error::notFound("DELETE " + path + ": 404");
    return okStatus();
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
    objects_.erase(path);
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
    objects_[path] = object;
    written_.notify_all();
    return object;
  }

  mutable std::mutex mutex_;
  std::condition_variable written_;
  std::map<std::string, nlohmann::json> objects_;
  std::deque<Error> fail_next_;
  std::optional<Error> fail_always_;
  std::vector<std::string> log_;
  uint64_t version_ = 100;
};

}  // namespace topod::testing
