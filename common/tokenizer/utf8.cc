#include "common/tokenizer/utf8.h"

#include <cstdint>

namespace gemma3n {

size_t Utf8CharLength(absl::string_view s, size_t pos) {
  const uint8_t c = static_cast<uint8_t>(s[pos]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (pos + len > s.size()) return 1;
  for (size_t i = 1; i < len; ++i) {
    if ((static_cast<uint8_t>(s[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return len;
}

bool IsValidUtf8(absl::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const uint8_t c = static_cast<uint8_t>(s[pos]);
    const size_t len = Utf8CharLength(s, pos);
    if (len == 1 && c >= 0x80) return false;
    // Overlong, surrogate and out-of-range forms.
    if (len == 2 && c < 0xC2) return false;
    if (len == 3) {
      const uint8_t c1 = static_cast<uint8_t>(s[pos + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;
    }
    if (len == 4) {
      const uint8_t c1 = static_cast<uint8_t>(s[pos + 1]);
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return false;
    }
    pos += len;
  }
  return true;
}

void AppendBytesOrReplacement(const std::string& bytes, std::string& out) {
  if (IsValidUtf8(bytes)) {
    out += bytes;
    return;
  }
  for (size_t i = 0; i < bytes.size(); ++i) out += "\xEF\xBF\xBD";
}

bool ParseByteToken(absl::string_view piece, int* byte) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return false;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    const char h = piece[i];
    value <<= 4;
    if (h >= '0' && h <= '9') value |= h - '0';
    else if (h >= 'A' && h <= 'F') value |= h - 'A' + 10;
    else if (h >= 'a' && h <= 'f') value |= h - 'a' + 10;
    else return false;
  }
  *byte = value;
  return true;
}

}  // namespace gemma3n
