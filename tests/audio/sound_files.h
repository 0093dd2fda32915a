// Making audio files in tests: libsndfile writes samples in any container and
// codec it supports; the bytes come back for the decoder under test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemma3n::testing {

std::vector<uint8_t> ReadFileBytes(const std::string& path);

// Interleaved samples in [-1, 1). Integer formats get exact 16-bit values
// (x * 32768), so lossless formats decode to the same samples.
std::vector<uint8_t> WriteSoundFile(const std::vector<float>& interleaved, int rate, int channels, int format);

}  // namespace gemma3n::testing
