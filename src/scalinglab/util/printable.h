#pragma once
// Text from input files (log lines, column names, file names) shown in messages: control bytes
// (ESC, BEL, CR, …; bytes < 0x20 and 0x7f) are written as \xNN so that a hostile or garbled
// file cannot move the cursor, recolour or clear the user's terminal. UTF-8 is left as it is.
#include <string>
#include <string_view>

namespace scalinglab::util {

inline std::string printable(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace scalinglab::util
