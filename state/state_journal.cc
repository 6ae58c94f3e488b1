#include "state/state_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

#include "policies/state_check.h"
#include "state/state_file.h"

namespace topod::agent {

namespace {

constexpr std::string_view kSegmentPrefix = "journal.";
constexpr int kSegmentDigits = 10;
constexpr std::size_t kHashDigits = 16;

std::string segmentName(uint64_t index) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*llu", kSegmentDigits, static_cast<unsigned long long>(index));
  return std::string(kSegmentPrefix) + digits;
}

// "journal.0000000007" -> 7; anything else (the lock, state.json, "journal.7.corrupt-...") -> 0.
uint64_t segmentIndexOf(std::string_view name) {
  if (name.size() != kSegmentPrefix.size() + kSegmentDigits ||
      name.substr(0, kSegmentPrefix.size()) != kSegmentPrefix) {
    return 0;
  }
  uint64_t index = 0;
  const char* first = name.data() + kSegmentPrefix.size();
  auto [end, ec] = std::from_chars(first, name.data() + name.size(), index);
  return ec == std::errc() && end == name.data() + name.size() ? index : 0;
}

std::string hashHex(std::string_view bytes) {
  char hex[kHashDigits + 1];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(policies::fnv1a64(bytes)));
  return std::string(hex, kHashDigits);
}

// One line without its newline: "<hash> <record>". A line whose hash verifies is what topod
// wrote; when its record still does not parse (a writer of another version, or a bug), the
// record alone is given up: `unreadable` says so, and the change returned erases the container
// the record names (its allocation is then unknown, so Synchronize adopts it afresh) or, when
// not even that can be read, changes nothing.
Result<policies::StateChange> parseLine(std::string_view line, const std::string& where, uint64_t expected_seq,
                                        std::vector<std::string>& unreadable) {
  if (line.size() < kHashDigits + 2 || line[kHashDigits] != ' ') {
    return Error::dataLoss(where + ": not a journal record (expected \"<16 hex digits> <record>\")");
  }
  std::string_view hash = line.substr(0, kHashDigits);
  std::string_view record = line.substr(kHashDigits + 1);
  if (hashHex(record) != hash) {
    return Error::dataLoss(where + ": record hash mismatch: the line says " + std::string(hash) +
                           ", its record hashes to " + hashHex(record));
  }
  auto change = policies::parseStateChange(record, where);
  if (change.has_value()) return change;
  policies::StateChangeIdentity identity = policies::salvageStateChangeIdentity(record);
  policies::StateChange erase{.seq = identity.seq.value_or(expected_seq), .key = {}, .allocation = std::nullopt};
  std::string outcome = "; nothing else of it could be read, so it is skipped";
  if (identity.key) {
    erase.key = *identity.key;
    outcome = "; the allocation of " + policies::describeKey(*identity.key) +
              " is forgotten and the runtime's Synchronize adopts that container afresh";
  }
  unreadable.push_back(change.error().message() + outcome);
  return erase;
}

}  // namespace

std::string journalLine(const policies::StateChange& change) {
  std::string record = policies::serializeStateChange(change);
  return hashHex(record) + " " + record + "\n";
}

Result<std::string> verifiedJournalLine(const policies::StateChange& change) {
  std::string record = policies::serializeStateChange(change);
  auto back = policies::parseStateChange(record, "record");
  if (!back.has_value()) {
    return Error::invalidArgument("the change of " + policies::describeKey(change.key) +
                                  " cannot be recorded faithfully: " + back.error().message());
  }
  if (*back != change) {
    return Error::invalidArgument("the change of " + policies::describeKey(change.key) +
                                  " cannot be recorded faithfully: it reads back differently (a name that is not "
                                  "valid UTF-8?)");
  }
  return hashHex(record) + " " + record + "\n";
}

Result<std::vector<JournalSegment>> listJournalSegments(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return Error::fromErrno(errno, "listing state directory " + dir);
  std::vector<JournalSegment> segments;
  while (const dirent* entry = ::readdir(handle)) {
    uint64_t index = segmentIndexOf(entry->d_name);
    if (index != 0) segments.push_back({.index = index, .path = dir + "/" + entry->d_name});
  }
  ::closedir(handle);
  std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return segments;
}

Status parseJournalSegment(std::string_view text, const std::string& path, bool may_end_torn,
                           JournalContents& contents) {
  std::size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    ++line_number;
    std::size_t newline = text.find('\n', pos);
    std::string where = path + ":" + std::to_string(line_number);
    if (newline == std::string_view::npos) {
      if (may_end_torn) {
        contents.torn_tail = true;
        contents.last_segment_valid_bytes = pos;
        return okStatus();
      }
      return Error::dataLoss(where + ": incomplete record (" + std::to_string(text.size() - pos) +
                             " bytes without a newline) before the end of the journal");
    }
    uint64_t expected_seq = contents.changes.empty() ? 1 : contents.changes.back().seq + 1;
    auto change = parseLine(text.substr(pos, newline - pos), where, expected_seq, contents.unreadable);
    if (!change.has_value()) return change.error();
    if (!contents.changes.empty() && change->seq != contents.changes.back().seq + 1) {
      return Error::dataLoss(where + ": record " + std::to_string(change->seq) + " follows record " +
                             std::to_string(contents.changes.back().seq) + " (records are missing)");
    }
    contents.changes.push_back(std::move(*change));
    pos = newline + 1;
  }
  contents.last_segment_valid_bytes = text.size();
  return okStatus();
}

Result<JournalContents> readJournal(const std::vector<JournalSegment>& segments, bool allow_torn_tail) {
  JournalContents contents;
  contents.segments = segments;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const JournalSegment& segment = segments[s];
    auto text = readWholeFile(segment.path);
    if (!text.has_value()) return text.error();
    const bool last = s + 1 == segments.size();
    TOPOD_RETURN_IF_ERROR(parseJournalSegment(*text, segment.path, last && allow_torn_tail, contents));
  }
  return contents;
}

StateJournal::StateJournal(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}

StateJournal::~StateJournal() {
  std::lock_guard lock(mutex_);
  if (!fd_.valid()) return;
  (void)syncLocked();
}

Result<std::unique_ptr<StateJournal>> StateJournal::open(std::string dir, const JournalContents& contents,
                                                         Options options) {
  if (options.records_per_segment == 0) return Error::invalidArgument("journal: records_per_segment must be > 0");
  std::unique_ptr<StateJournal> journal(new StateJournal(std::move(dir), options));
  if (contents.torn_tail) {
    // The torn record was never acknowledged; cut it off so that the segment, closed from now
    // on, verifies in full.
    const std::string& path = contents.segments.back().path;
    if (::truncate(path.c_str(), static_cast<off_t>(contents.last_segment_valid_bytes)) != 0) {
      return Error::fromErrno(errno, "cutting the torn last record off " + path);
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::fdatasync(fd.get()) != 0) return Error::fromErrno(errno, "syncing " + path);
  }
  journal->closed_ = contents.segments;
  if (!contents.changes.empty()) journal->next_seq_ = contents.changes.back().seq + 1;
  uint64_t index = contents.segments.empty() ? 1 : contents.segments.back().index + 1;
  std::lock_guard lock(journal->mutex_);
  TOPOD_RETURN_IF_ERROR(journal->openSegmentLocked(index));
  TOPOD_RETURN_IF_ERROR(journal->syncLocked());
  return journal;
}

Status StateJournal::openSegmentLocked(uint64_t index) {
  JournalSegment segment{.index = index, .path = dir_ + "/" + segmentName(index)};
  UniqueFd fd(::open(segment.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::fromErrno(errno, "creating journal segment " + segment.path);
  if (fd_.valid()) {
    // A closed segment must be durable before later records are: a power loss that kept those
    // but not its tail would leave a gap, and a gap makes the whole journal untrusted.
    if (data_dirty_ && ::fdatasync(fd_.get()) != 0) {
      int err = errno;
      fd.reset();
      ::unlink(segment.path.c_str());
      return Error::fromErrno(err, "fdatasync of journal segment " + active_.path);
    }
    data_dirty_ = false;
    closed_.push_back(active_);
  }
  fd_ = std::move(fd);
  active_ = std::move(segment);
  active_records_ = 0;
  active_bytes_ = 0;
  directory_dirty_ = true;
  return okStatus();
}

Status StateJournal::syncLocked() {
  if (data_dirty_) {
    if (::fdatasync(fd_.get()) != 0) return Error::fromErrno(errno, "fdatasync of journal segment " + active_.path);
    data_dirty_ = false;
  }
  if (directory_dirty_) {
    TOPOD_RETURN_IF_ERROR(fsyncDirectory(dir_));
    directory_dirty_ = false;
  }
  return okStatus();
}

Status StateJournal::append(const std::vector<policies::StateChange>& changes) {
  std::lock_guard lock(mutex_);
  if (!broken_.empty()) return Error::failedPrecondition("journal " + active_.path + " refuses writes: " + broken_);
  if (changes.empty()) return okStatus();
  if (active_records_ >= options_.records_per_segment) {
    TOPOD_RETURN_IF_ERROR(openSegmentLocked(active_.index + 1));
  }
  std::string bytes;
  uint64_t seq = next_seq_;
  for (const policies::StateChange& change : changes) {
    policies::StateChange numbered = change;
    numbered.seq = seq++;
    // Whatever is acknowledged must read back at the next start: a record that would not is
    // refused here, before anything is written (the runtime then gets the error).
    auto line = verifiedJournalLine(numbered);
    if (!line.has_value()) return line.error();
    bytes += *line;
  }
  Status written = writeAllLocked(bytes);
  if (written.has_value() && options_.sync == JournalSync::EveryChange) {
    data_dirty_ = true;
    written = syncLocked();
  }
  if (!written.has_value()) {
    // Not acknowledged, so not kept: a record left behind would be replayed after a restart.
    if (::ftruncate(fd_.get(), static_cast<off_t>(active_bytes_)) != 0) {
      broken_ = written.error().message() + ", and cutting the unacknowledged records off failed too";
    }
    return written;
  }
  next_seq_ = seq;
  active_records_ += changes.size();
  active_bytes_ += bytes.size();
  data_dirty_ = options_.sync != JournalSync::EveryChange;
  return okStatus();
}

Status StateJournal::writeAllLocked(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::fromErrno(n < 0 ? errno : EIO, "appending to journal segment " + active_.path);
    done += static_cast<std::size_t>(n);
  }
  return okStatus();
}

std::string StateJournal::refusal() const {
  std::lock_guard lock(mutex_);
  return broken_;
}

void StateJournal::forgetClosed(const std::vector<JournalSegment>& compacted) {
  std::lock_guard lock(mutex_);
  std::erase_if(closed_, [&](const JournalSegment& segment) {
    return std::find(compacted.begin(), compacted.end(), segment) != compacted.end();
  });
}

Status StateJournal::closeActive() {
  std::lock_guard lock(mutex_);
  if (!fd_.valid()) return okStatus();
  TOPOD_RETURN_IF_ERROR(syncLocked());
  fd_.reset();
  if (active_records_ > 0) {
    closed_.push_back(active_);
  } else if (::unlink(active_.path.c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno(errno, "removing empty journal segment " + active_.path);
  }
  broken_ = "the journal was closed";
  return okStatus();
}

std::vector<JournalSegment> StateJournal::closedSegments() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

Status StateJournal::syncIfDirty() {
  std::lock_guard lock(mutex_);
  return syncLocked();
}

std::size_t StateJournal::closedSegmentCount() const {
  std::lock_guard lock(mutex_);
  return closed_.size();
}

bool StateJournal::dirty() const {
  std::lock_guard lock(mutex_);
  return data_dirty_ || directory_dirty_;
}

}  // namespace topod::agent
