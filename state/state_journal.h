// StateJournal: the changes to the agent's State since its last full checkpoint (state.json),
// as append-only segment files in the state directory: "journal.0000000001", "journal.0000000002",
// ... Each change is one line, "<16 hex digits> <record>\n", where the record is the engine's
// change record (policies::serializeStateChange) and the hex digits its FNV-1a 64 hash.
//
// Why a journal: rewriting the whole state.json after every change cost ~10 ms of serialisation
// with 1,000 containers plus three fsyncs, on the NRI path. Appending one record costs a few
// microseconds plus, when asked for, one fdatasync. Checkpoint (checkpoint.h) folds closed
// segments back into state.json in the background.
//
// Crash rules (what load accepts):
//   - Records are numbered (seq) without gaps across all segments; a gap means a lost segment.
//   - Only the very end of the last segment may be torn: bytes after its last newline are a
//     record whose write a crash cut short. It was never acknowledged (append() had not
//     returned, so the runtime got no reply), so it is dropped and the file truncated.
//   - A record whose hash verifies but whose content does not parse costs that record alone:
//     the container it names loses its recorded allocation (Synchronize adopts it afresh) and
//     JournalContents::unreadable says why. The writer refuses records it cannot read back, so
//     this takes a record from another topod version or a bug.
//   - Anything else that does not verify (bad hash, not a record, torn bytes in an earlier
//     segment) is corruption: DataLoss, and the caller moves the files aside.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_io.h"
#include "common/result.h"
#include "state/state_json.h"

namespace topod::agent {

enum class JournalSync {
  // fdatasync before append() returns: an acknowledged change survives even a power loss.
  EveryChange,
  // write(2) before append() returns, which survives any crash of topod itself (the kernel
  // holds the data); fdatasync within Checkpoint's background interval. A power loss may lose
  // the last changes, but it also stops every container: the next boot's Synchronize rebuilds.
  Background,
};

struct JournalSegment {
  uint64_t index = 0;
  std::string path;
  friend bool operator==(const JournalSegment&, const JournalSegment&) = default;
};

// What the segments on disk hold.
struct JournalContents {
  // Every complete record, in order; an unreadable record is an erase of the container it names
  // (or of nobody, an empty key).
  std::vector<policies::StateChange> changes;
  // One message per unreadable record: where, why, and what became of its container.
  std::vector<std::string> unreadable;
  std::vector<JournalSegment> segments;  // ascending index
  // The last segment ended in a torn record, which `changes` leaves out.
  bool torn_tail = false;
  uint64_t last_segment_valid_bytes = 0;  // where the torn record began
};

// The segments of `dir`, ascending. I/O errors carry errno.
Result<std::vector<JournalSegment>> listJournalSegments(const std::string& dir);

// Reads `segments` in order. `allow_torn_tail`: the last one may end in a torn record (load of a
// journal a crash interrupted); false for segments that are closed (compaction).
Result<JournalContents> readJournal(const std::vector<JournalSegment>& segments, bool allow_torn_tail);

// The parser behind readJournal(), for one segment's bytes (`path` names it in errors): appends
// its records to `contents.changes` and sets `last_segment_valid_bytes`. `may_end_torn`: bytes
// after the last newline are a torn record (sets `torn_tail`) rather than corruption. Checks the
// sequence against the records already in `contents`.
Status parseJournalSegment(std::string_view text, const std::string& path, bool may_end_torn,
                           JournalContents& contents);

// The line a change is stored as (tests build journals by hand with it).
std::string journalLine(const policies::StateChange& change);
// The same, once the record is known to read back as `change` (InvalidArgument otherwise).
Result<std::string> verifiedJournalLine(const policies::StateChange& change);

class StateJournal {
 public:
  struct Options {
    JournalSync sync = JournalSync::EveryChange;
    // A segment is closed (and becomes a compaction candidate) after this many records.
    uint64_t records_per_segment = 1024;
  };

  // Opens the journal of `dir` for appending after `contents` (what readJournal found there): a
  // torn tail is cut off, and appends go to a fresh segment after the existing ones, numbered on
  // from the last record.
  static Result<std::unique_ptr<StateJournal>> open(std::string dir, const JournalContents& contents, Options options);
  ~StateJournal();
  StateJournal(const StateJournal&) = delete;
  StateJournal& operator=(const StateJournal&) = delete;

  // Appends the changes with one write, numbered from the journal's next seq (whatever seq they
  // carry is ignored; the caller's copies are left alone). On error none
  // of them counts as written: a partial write is cut off again so that it can never be followed
  // by a later record. When even that fails, the journal refuses every later append.
  Status append(const std::vector<policies::StateChange>& changes);

  // Syncs and closes the segment being appended to (an empty one is removed): a clean shutdown,
  // after which every record is in a closed segment and append() refuses.
  Status closeActive();

  // Segments no longer appended to, ascending: what compaction may fold into state.json.
  std::vector<JournalSegment> closedSegments() const;
  std::size_t closedSegmentCount() const;
  // After compaction deleted them.
  void forgetClosed(const std::vector<JournalSegment>& compacted);
  // fdatasync of the segment being appended to (and the directory after a new segment), when
  // something is not synced yet. Background mode's flusher calls it.
  Status syncIfDirty();
  bool dirty() const;
  // Why append() refuses every write from now on (a failed write that could not be cut off
  // again), or empty while it accepts them.
  std::string refusal() const;

 private:
  StateJournal(std::string dir, Options options);
  Status openSegmentLocked(uint64_t index);
  Status syncLocked();
  Status writeAllLocked(std::string_view bytes);

  const std::string dir_;
  const Options options_;
  mutable std::mutex mutex_;
  std::vector<JournalSegment> closed_;
  JournalSegment active_;
  UniqueFd fd_;  // the active segment, appended to
  uint64_t active_records_ = 0;
  uint64_t active_bytes_ = 0;
  uint64_t next_seq_ = 1;
  bool data_dirty_ = false;
  bool directory_dirty_ = false;
  std::string broken_;  // why appends are refused, once a failed write could not be undone
};

}  // namespace topod::agent
