// Text that came from outside (runtime names, annotations, file content) made safe to show: in a
// log line or a table row a newline would forge a line of its own, and escape sequences could
// repaint a terminal.
#pragma once

#include <string>
#include <string_view>

namespace topod {

// `text` with every control character (below 0x20, and 0x7f) and every backslash written as a C
// escape ("\n", "\t", "\\", "\x1b"); printable bytes, UTF-8 included, stay as they are.
std::string escapeForDisplay(std::string_view text);

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence (for messages sent to an
// API server that bounds a field's length).
std::string cutUtf8(std::string text, std::size_t max);

}  // namespace topod
