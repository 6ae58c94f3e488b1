// Fuzzes the journal-record parser, the one parser that reads crash-damaged files on every
// restart. The input is read twice:
//  - as the bytes of journal segments (split at each 0x00 byte, the last one may end torn), so
//    hashes, newlines, torn tails and sequence gaps are exercised as found on disk;
//  - as records: each line gets its correct hash prepended, so the mutations reach the record
//    parser behind the hash check.
// Either way the reader returns an error or records that the writer writes back into lines the
// reader reads to the same records (what the writer writes, the reader reads), and applying
// them to a State never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/check.h"
#include "state/state_journal.h"
#include "state/state_json.h"

namespace {

void checkContents(const topod::Result<topod::agent::JournalContents>& contents, std::string_view last_segment) {
  if (!contents.has_value()) {
    TOPOD_CHECK(!contents.error().message().empty());
    return;
  }
  TOPOD_CHECK(contents->last_segment_valid_bytes <= last_segment.size());
  topod::policies::State state;
  std::string rewritten;
  for (const topod::policies::StateChange& change : contents->changes) {
    rewritten += topod::agent::journalLine(change);
    topod::policies::applyStateChange(state, change);
  }
  topod::agent::JournalContents again;
  auto status = topod::agent::parseJournalSegment(rewritten, "rewritten", false, again);
  if (!status.has_value()) {
    std::fprintf(stderr, "a journal the writer wrote does not read back: %s\n", status.error().message().c_str());
  }
  TOPOD_CHECK(status.has_value());
  TOPOD_CHECK(again.changes == contents->changes);
}

// The input split at NUL bytes into segments, parsed as readJournal() parses files.
topod::Result<topod::agent::JournalContents> asSegments(std::string_view input, std::string_view& last) {
  topod::agent::JournalContents contents;
  int index = 0;
  while (true) {
    std::size_t nul = input.find('\0');
    std::string_view segment = input.substr(0, nul);
    const bool final = nul == std::string_view::npos;
    auto status = topod::agent::parseJournalSegment(segment, "journal." + std::to_string(++index), final, contents);
    if (!status.has_value()) return status.error();
    if (final) {
      last = segment;
      return contents;
    }
    input.remove_prefix(nul + 1);
  }
}

// Every line of the input as a record with its correct hash.
topod::Result<topod::agent::JournalContents> asRecords(std::string_view input, std::string& hashed) {
  while (!input.empty()) {
    std::size_t newline = input.find('\n');
    std::string_view record = input.substr(0, newline);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(topod::policies::fnv1a64(record)));
    hashed += std::string(hex) + " " + std::string(record) + "\n";
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  topod::agent::JournalContents contents;
  auto status = topod::agent::parseJournalSegment(hashed, "records", true, contents);
  if (!status.has_value()) return status.error();
  return contents;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view last;
  auto segments = asSegments(input, last);
  checkContents(segments, last);
  std::string hashed;
  auto records = asRecords(input, hashed);
  checkContents(records, hashed);
  return 0;
}
