// UTF-8 helpers for tokenizing and streaming text.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace gemma3n {

// Length of the UTF-8 character starting at s[pos]; 1 for an invalid byte (it
// is then handled as a byte of its own).
size_t Utf8CharLength(absl::string_view s, size_t pos);
// Whether s is entirely valid UTF-8.
bool IsValidUtf8(absl::string_view s);
// Appends `bytes` if valid UTF-8, else U+FFFD per byte (Hugging Face's
// ByteFallback decoder).
void AppendBytesOrReplacement(const std::string& bytes, std::string& out);
// "<0x41>" -> 0x41.
bool ParseByteToken(absl::string_view piece, int* byte);

}  // namespace gemma3n
