#include "state/checkpoint.h"

#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"
#include "policies/state_check.h"
#include "state/state_json.h"

namespace topod::agent {

namespace {

// state.json, or the empty State when there is none yet.
Result<policies::State> readSnapshot(const StateFile& snapshot) {
  auto text = snapshot.read();
  if (!text.has_value()) {
    if (text.error().code() == ErrorCode::NotFound) return policies::State{};
    return text.error();
  }
  return policies::parseState(*text, snapshot.path());
}

void applyAll(policies::State& state, const std::vector<policies::StateChange>& changes) {
  for (const policies::StateChange& change : changes) policies::applyStateChange(state, change);
}

// Corruption is reported as an untrusted checkpoint; anything else (I/O) as an unusable directory.
bool isCorruption(const Error& error) {
  return error.code() == ErrorCode::InvalidArgument || error.code() == ErrorCode::DataLoss;
}

}  // namespace

Checkpoint::Checkpoint(std::string state_dir, CheckpointOptions options)
    : dir_(std::move(state_dir)),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : steadyClock()),
      snapshot_(dir_, kFileName) {}

Checkpoint::~Checkpoint() {
  Status closed = close();
  if (!closed.has_value() && options_.report_background_error) {
    options_.report_background_error(closed.error(), "the next start replays the journal");
  }
}

Status Checkpoint::close() {
  {
    std::lock_guard lock(worker_mutex_);
    if (closed_) return okStatus();
    closed_ = true;
    stop_ = true;
  }
  worker_cv_.notify_one();
  if (worker_.joinable()) worker_.join();
  if (!journal_) return okStatus();
  // A clean stop leaves everything in state.json: the next start reads one document, and a
  // topod that predates the journal would still see every allocation.
  Status closed = journal_->closeActive();
  if (closed.has_value()) closed = compact();
  if (!closed.has_value()) return closed.error().withContext("folding the journal into " + path() + " at shutdown");
  return okStatus();
}

Result<policies::State> Checkpoint::readOnDisk(const std::string& state_dir) {
  // A running agent may compact while this reads. Listing the segments before reading state.json
  // gives a consistent view (segments are deleted only once a state.json holding them is in
  // place, and replaying what state.json holds changes nothing), unless a listed segment is gone
  // by the time it is read: then read again.
  constexpr int kAttempts = 10;
  for (int attempt = 1;; ++attempt) {
    auto segments = listJournalSegments(state_dir);
    if (!segments.has_value()) return segments.error();
    auto state = readSnapshot(StateFile(state_dir, kFileName));
    if (!state.has_value()) return state.error();
    auto contents = readJournal(*segments, /*allow_torn_tail=*/true);
    if (!contents.has_value()) {
      if (contents.error().code() == ErrorCode::NotFound && attempt < kAttempts) continue;
      return contents.error();
    }
    applyAll(*state, contents->changes);
    return state;
  }
}

Status Checkpoint::checkStateFiles() const {
  auto segments = listJournalSegments(dir_);
  if (!segments.has_value()) return segments.error();
  std::vector<std::string> files;
  if (::access(path().c_str(), F_OK) == 0) files.push_back(path());
  for (const JournalSegment& segment : *segments) files.push_back(segment.path);
  for (const std::string& file : files) TOPOD_RETURN_IF_ERROR(checkPrivateOwnership(file, ::geteuid(), "state file"));
  return okStatus();
}

Result<LoadedState> Checkpoint::moveAside(const std::string& why) {
  std::string stamp = utcStamp();
  std::vector<std::string> moved;
  std::vector<std::string> files;
  auto segments = listJournalSegments(dir_);
  if (!segments.has_value())
    return segments.error().withContext("checkpoint in " + dir_ + " is unusable (" + why + ")");
  if (::access(path().c_str(), F_OK) == 0) files.push_back(path());
  for (const JournalSegment& segment : *segments) files.push_back(segment.path);
  for (const std::string& file : files) {
    auto target = moveFileAside(file, stamp);
    if (!target.has_value()) return target.error().withContext("checkpoint in " + dir_ + " is unusable (" + why + ")");
    moved.push_back(*target);
  }
  auto journal = StateJournal::open(dir_, JournalContents{}, {options_.sync, options_.records_per_segment});
  if (!journal.has_value()) return journal.error();
  journal_ = std::move(*journal);
  LoadedState loaded;
  loaded.moved_aside = true;
  loaded.warning = true;
  std::string list;
  for (const std::string& file : moved) list += (list.empty() ? "" : ", ") + file;
  loaded.report = "checkpoint in " + dir_ + " is not trusted, moved aside to " + list +
                  "; the state will be rebuilt from the runtime's Synchronize. Reason: " + why;
  return loaded;
}

Result<LoadedState> Checkpoint::load(const topology::Topology& topology, const policies::PolicyOptions& options,
                                     const policies::Policy& policy) {
  if (journal_) return Error::failedPrecondition("checkpoint " + dir_ + " is already loaded");
  TOPOD_RETURN_IF_ERROR(checkStateDirectory(dir_));
  auto result = [&]() -> Result<LoadedState> {
    TOPOD_RETURN_IF_ERROR(checkStateFiles());
    auto state = readSnapshot(snapshot_);
    if (!state.has_value()) {
      if (isCorruption(state.error())) return moveAside(state.error().message());
      return state.error();
    }
    auto segments = listJournalSegments(dir_);
    if (!segments.has_value()) return segments.error();
    auto contents = readJournal(*segments, /*allow_torn_tail=*/true);
    if (!contents.has_value()) {
      if (isCorruption(contents.error())) return moveAside(contents.error().message());
      return contents.error();
    }
    applyAll(*state, contents->changes);
    policies::StateCheckOptions check;
    check.policy = &policy;
    Status valid = policies::validateRestoredState(topology, options, *state, dir_, check);
    if (!valid.has_value()) {
      auto aside = moveAside(valid.error().message());
      if (aside.has_value()) aside->misfit = true;
      return aside;
    }
    auto journal = StateJournal::open(dir_, *contents, {options_.sync, options_.records_per_segment});
    if (!journal.has_value()) return journal.error();
    journal_ = std::move(*journal);
    LoadedState loaded;
    loaded.report = "restored " + std::to_string(state->size()) + " container allocations from " + path() + " and " +
                    std::to_string(contents->changes.size()) + " journal records";
    if (contents->torn_tail) loaded.report += " (a torn last record, never acknowledged, was dropped)";
    if (!contents->unreadable.empty()) {
      loaded.warning = true;
      loaded.report += "; " + std::to_string(contents->unreadable.size()) + " unreadable journal record(s) skipped:";
      for (const std::string& why : contents->unreadable) loaded.report += "\n  " + why;
    }
    loaded.state = std::move(*state);
    return loaded;
  }();
  if (!result.has_value()) return result;
  closed_seen_ = journal_->closedSegmentCount();
  compaction_wanted_ = closed_seen_ > 0;
  worker_ = std::thread([this] { workerLoop(); });
  return result;
}

Status Checkpoint::record(const std::vector<policies::StateChange>& changes) {
  if (!journal_) return Error::failedPrecondition("checkpoint " + dir_ + " is not loaded");
  {
    std::lock_guard lock(worker_mutex_);
    if (closed_) return Error::failedPrecondition("checkpoint " + dir_ + " is closed");
  }
  if (options_.observe_journal) {
    const Clock::TimePoint started = clock_.now();
    Status appended = journal_->append(changes);
    options_.observe_journal(JournalOperation::Append, clock_.now() - started);
    TOPOD_RETURN_IF_ERROR(appended);
  } else {
    TOPOD_RETURN_IF_ERROR(journal_->append(changes));
  }
  // Wake the worker once per newly closed segment, not per record: a compaction that keeps
  // failing (a full disk) is retried when the next segment closes, not on every event.
  std::size_t closed = journal_->closedSegmentCount();
  bool wake = false;
  {
    std::lock_guard lock(worker_mutex_);
    if (closed > closed_seen_) {
      closed_seen_ = closed;
      compaction_wanted_ = true;
      wake = true;
    }
  }
  if (wake) worker_cv_.notify_one();
  return okStatus();
}

Status Checkpoint::compact() {
  if (!journal_) return Error::failedPrecondition("checkpoint " + dir_ + " is not loaded");
  std::lock_guard lock(compaction_mutex_);
  std::vector<JournalSegment> segments = journal_->closedSegments();
  if (segments.empty()) return okStatus();
  auto state = readSnapshot(snapshot_);
  if (!state.has_value()) return state.error().withContext("compacting " + dir_);
  auto contents = readJournal(segments, /*allow_torn_tail=*/false);
  if (!contents.has_value()) return contents.error().withContext("compacting " + dir_);
  applyAll(*state, contents->changes);
  TOPOD_RETURN_IF_ERROR(snapshot_.write(policies::serializeState(*state)));
  // Only now that state.json holds them may the segments go; oldest first, so that what is left
  // after a crash in between is still a gap-free run of records.
  for (const JournalSegment& segment : segments) {
    if (::unlink(segment.path.c_str()) != 0 && errno != ENOENT) {
      return Error::fromErrno(errno, "removing compacted journal segment " + segment.path);
    }
  }
  TOPOD_RETURN_IF_ERROR(fsyncDirectory(dir_));
  journal_->forgetClosed(segments);
  {
    std::lock_guard worker_lock(worker_mutex_);
    closed_seen_ = journal_->closedSegmentCount();
    ++compactions_;
  }
  compacted_cv_.notify_all();
  return okStatus();
}

uint64_t Checkpoint::compactions() const {
  std::lock_guard lock(worker_mutex_);
  return compactions_;
}

bool Checkpoint::awaitCompactions(uint64_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(worker_mutex_);
  return compacted_cv_.wait_for(lock, timeout, [&] { return compactions_ >= count; });
}

bool Checkpoint::syncPending() const {
  return journal_ && journal_->dirty();
}

std::string Checkpoint::problem() const {
  if (!journal_) return "checkpoint " + dir_ + " is not loaded";
  {
    std::lock_guard lock(worker_mutex_);
    if (closed_) return "checkpoint " + dir_ + " is closed";
  }
  std::string refusal = journal_->refusal();
  return refusal.empty() ? refusal : "the journal in " + dir_ + " refuses writes: " + refusal;
}

void Checkpoint::workerLoop() {
  const bool background = options_.sync == JournalSync::Background;
  std::unique_lock lock(worker_mutex_);
  while (!stop_) {
    auto woken = [this] { return stop_ || compaction_wanted_; };
    if (background) {
      clock_.waitUntil(lock, worker_cv_, clock_.now() + kBackgroundSyncInterval, woken);
    } else {
      worker_cv_.wait(lock, woken);
    }
    if (stop_) return;
    bool compact_now = compaction_wanted_;
    compaction_wanted_ = false;
    lock.unlock();
    if (background) {
      const bool timed = options_.observe_journal && journal_->dirty();
      const Clock::TimePoint started = timed ? clock_.now() : Clock::TimePoint{};
      Status synced = journal_->syncIfDirty();
      if (timed) options_.observe_journal(JournalOperation::Sync, clock_.now() - started);
      if (!synced.has_value() && options_.report_background_error) {
        options_.report_background_error(synced.error(),
                                         "retrying in " + std::to_string(kBackgroundSyncInterval.count()) + " ms");
      }
    }
    if (compact_now) {
      Status compacted = compact();
      if (!compacted.has_value() && options_.report_background_error) {
        // The journal keeps every change, so nothing is lost; it only grows until this works.
        options_.report_background_error(compacted.error(),
                                         "the journal keeps the changes, retrying at the next segment");
      }
    }
    lock.lock();
  }
}

}  // namespace topod::agent
