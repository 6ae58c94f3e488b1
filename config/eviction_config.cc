#include "config/eviction_config.h"

#include <utility>
#include <vector>

#include "config/config_reader.h"

namespace topod::agent {

void readEviction(TableReader& root, EvictionConfig& out) {
  root.readSubtable("eviction", [&](TableReader& table) {
    table.readBool("enabled", out.enabled);
    table.readString("responder_name", out.responder_name);
    static const std::vector<std::pair<std::string_view, std::string_view>> kModes = {
        {"signal", "signal"}, {"file", "file"}, {"criu", "criu"}, {"none", "none"}};
    std::string_view mode = out.mode;
    if (table.readChoice("mode", kModes, mode)) out.mode = std::string(mode);
    table.readString("signal", out.signal);
    // A day is longer than any checkpoint should take; a second is the shortest that means anything.
    table.readInt("deadline_s", 1, 86400, out.deadline_s);
    table.readInt("max_deadline_s", 1, 86400, out.max_deadline_s);
    table.readInt("heartbeat_interval_s", 20, 600, out.heartbeat_interval_s);
    table.readInt("poll_interval_ms", 100, 60000, out.poll_interval_ms);
    if (table.readString("notice_dir", out.notice_dir) && (out.notice_dir.empty() || out.notice_dir[0] != '/')) {
      table.problem("notice_dir", "\"" + out.notice_dir + "\" must be an absolute path");
    }
    if (table.readString("cri_socket", out.cri_socket) && (out.cri_socket.empty() || out.cri_socket[0] != '/')) {
      table.problem("cri_socket", "\"" + out.cri_socket + "\" must be an absolute path");
    }
    if (table.readString("checkpoint_dir", out.checkpoint_dir) && !out.checkpoint_dir.empty() &&
        out.checkpoint_dir[0] != '/') {
      table.problem("checkpoint_dir", "\"" + out.checkpoint_dir + "\" must be an absolute path (or \"\")");
    }
    // An hour is longer than criu takes for any container that fits a node's memory.
    table.readInt("checkpoint_timeout_s", 1, 3600, out.checkpoint_timeout_s);
    table.readBool("request_evictions", out.request_evictions);
    table.readString("requester_name", out.requester_name);
    if (out.max_deadline_s < out.deadline_s) table.problem("max_deadline_s", "is below deadline_s");
    table.finish();
  });
}

}  // namespace topod::agent
