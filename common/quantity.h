// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), read exactly. The one
// parser for every quantity topod reads: the configuration's reserved memory, the simulator's
// requests and limits, and the size in a "hugepages-<size>" resource name (common/resource_names.h).
//
// Syntax, as Kubernetes accepts it: an optional sign, a decimal number ("2", "1.5", ".5", "5."),
// then one suffix:
//   binary     Ki Mi Gi Ti Pi Ei      (powers of 1024)
//   decimal    n u m "" k M G T P E   (powers of 1000; "m" is milli, "M" is mega)
//   exponent   e<int> or E<int>       ("1e3"; a bare "E" is exa)
// Every suffix is valid for every resource, as in Kubernetes ("2Gi" CPUs are 2^31 CPUs).
//
// Unlike Kubernetes, nothing is rounded: a value that is not a whole number of the unit asked
// for (a fraction of a byte, of a millicore), a negative value, one that does not fit, and more
// than 36 significant digits are InvalidArgument errors that quote the text and say why:
// `memory quantity "1.5": not a whole number of bytes`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod {

// Bytes ("1Gi", "1G", "1.5Gi", "1024"). Errors read `memory quantity "<text>": <why>`.
Result<uint64_t> parseByteQuantity(std::string_view text);

// Millicores ("250m", "1.5", "2"), at most INT64_MAX. Errors read `CPU quantity "<text>": <why>`.
Result<int64_t> parseMilliQuantity(std::string_view text);

// The canonical text of a byte count, as Kubernetes prints a binary quantity: the largest binary
// suffix that divides it exactly ("64Gi", "1536Mi", "1Ti"), else the plain number ("100", "0").
// parseByteQuantity(formatByteQuantity(n)) == n for every n.
std::string formatByteQuantity(uint64_t bytes);

}  // namespace topod
