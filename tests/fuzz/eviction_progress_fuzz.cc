// A workload's progress.json (agent/eviction_files.h), hostile input: arbitrary bytes give a
// Progress or an error, never a crash, and what parses is within the documented bounds and
// survives being written back as JSON and read again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "agent/eviction_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace topod::agent;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto progress = parseProgress(text);
  if (!progress) return 0;
  if (progress->message.size() > kMaxProgressMessage) std::abort();
  if (progress->percent && (*progress->percent < 0 || *progress->percent > 100)) std::abort();
  nlohmann::json again = {{"state", std::string(workloadStateName(progress->state))}};
  if (progress->percent) again["percent"] = *progress->percent;
  if (!progress->message.empty()) again["message"] = progress->message;
  auto reread = parseProgress(again.dump());
  if (!reread || !(*reread == *progress)) std::abort();
  return 0;
}
