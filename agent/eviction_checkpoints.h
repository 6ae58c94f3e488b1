// Eviction mode criu (docs/eviction.md): the runtime checkpoints each container of the pod
// through CRI CheckpointContainer (cri/runtime_client.h), one archive per container at
// <dir>/<pod uid>/<container>-<UTC time>.tar, off the NRI path and off the watch and poll
// threads: a checkpoint takes seconds to minutes, so CheckpointWorker runs the jobs one after
// another on a thread of its own.
//
// It reports as a workload would (Progress): Running with the share done and the archives so
// far, then Done with every archive's path, or Failed saying why (the runtime's stable reason:
// CheckpointUnsupported, CriuMissing, CheckpointTimeout, ...). Failed still completes the
// warning, so a runtime that cannot checkpoint never blocks the eviction.
//
// A container whose checkpoint fails (gone, timed out, criu refused it) does not stop the
// others; a failure that would repeat for every container (unsupported, unreachable, criu
// missing, cancelled) does. Before each container the worker asks whether the warning still
// runs (a withdrawn request stops the rest).
//
// Thread-safety: enqueue() and stop() from any thread; the callbacks run on the worker's
// thread (or the caller's, for runJob()) without any of the worker's locks held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/eviction_responder.h"
#include "common/result.h"
#include "cri/runtime_client.h"

namespace topod::agent {

struct CheckpointTarget {
  std::string id;    // the runtime's container id (NRI's and CRI's are the same)
  std::string name;  // the Kubernetes container name
};

struct CheckpointJob {
  std::string pod_uid;
  std::vector<CheckpointTarget> containers;
};

// "20261207T021500Z": sortable, and safe in a file name.
std::string archiveTime(WallTime at);
// <dir>/<pod uid>/<container name>-<archiveTime>.tar. A container name that is not a DNS label
// ([a-z0-9-], 1..63) is replaced by the container id when that is safe; InvalidArgument when
// neither the uid nor a name can name a file.
Result<std::string> checkpointArchivePath(const std::string& dir, const std::string& pod_uid,
                                          const CheckpointTarget& container, WallTime at);

struct CheckpointWorkerOptions {
  std::string dir;                    // archives go under it, one directory per pod
  std::chrono::seconds timeout{300};  // per container
};

class CheckpointWorker {
 public:
  using ProgressFn = std::function<void(const std::string& pod_uid, const Progress& progress)>;
  using WantedFn = std::function<bool(const std::string& pod_uid)>;
  using WallClockFn = std::function<WallTime()>;

  CheckpointWorker(CheckpointWorkerOptions options, cri::RuntimeClient& runtime, WallClockFn wall_clock,
                   ProgressFn progress, WantedFn wanted);
  ~CheckpointWorker();

  void start();
  // Ends the checkpoint in flight (the runtime's call is cancelled), drops the queue, joins.
  void stop();
  // Queues the pod's checkpoint; returns at once.
  void enqueue(CheckpointJob job);
  // One job on the caller's thread: what the worker's thread does with each. Public for tests.
  void runJob(const CheckpointJob& job);
  // Runs the queued jobs on the caller's thread (tests, without start()); how many ran.
  int runQueued();

 private:
  void loop();

  CheckpointWorkerOptions options_;
  cri::RuntimeClient& runtime_;
  WallClockFn wall_clock_;
  ProgressFn progress_;
  WantedFn wanted_;

  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  std::deque<CheckpointJob> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace topod::agent
