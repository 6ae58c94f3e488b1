// Internal to topology/: reads an hwloc topology (this machine, XML or synthetic) into a
// TopologyBuilder. The header is hwloc-free on purpose; only hwloc_import.cc includes hwloc.h.
#pragma once

#include <string>

#include "common/result.h"
#include "topology/model.h"

namespace topod::topology::detail {

enum class HwlocInput { Live, XmlFile, XmlBuffer, Synthetic };

// `text` is the path (XmlFile), the document (XmlBuffer) or the description (Synthetic); unused
// for Live. Errors carry hwloc's errno and say what hwloc refused; the caller adds the source.
Result<TopologyBuilder> importHwloc(HwlocInput input, const std::string& text);

}  // namespace topod::topology::detail
