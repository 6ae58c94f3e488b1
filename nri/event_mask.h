// Which NRI events a runtime accepts (docs/nri.md, "Event subscription"): a Configure answer with a bit the
// runtime does not know makes it drop the plugin, and 0 subscribes to everything (including the
// validator role on NRI >= 0.10). So the mask is derived from the runtime's NRI version.
#pragma once

#include <string_view>

#include "common/result.h"
#include "nri/types.h"

namespace topod::nri {

constexpr EventMask kValidEventsV02 = 0x07FF;      // NRI v0.2 - v0.9: events 1-11
constexpr EventMask kValidEventsCrio133 = 0x1FFF;  // NRI pseudo-version e597e78 (CRI-O 1.33.x)
constexpr EventMask kValidEventsV010 = 0x3FFF;     // NRI v0.10+: events 1-14

// The largest mask the runtime accepts, from ConfigureRequest's NRI_version when the runtime
// sends it (NRI >= 0.12), else from the runtime's name and version (containerd < 2.2 and CRI-O <
// 1.33: v0.2 events; CRI-O 1.33: 0x1FFF; later: 0x3FFF). Unknown runtimes or unparsable
// versions get the v0.2 set, which every NRI runtime accepts.
EventMask validEventsFor(std::string_view runtime_name, std::string_view runtime_version, std::string_view nri_version);

// wanted & valid. Errors (InvalidArgument) when that is empty: 0 would mean "everything".
Result<EventMask> chooseEventMask(EventMask wanted, EventMask valid);

}  // namespace topod::nri
