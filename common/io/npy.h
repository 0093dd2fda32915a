// NumPy .npy files (format 1.0): f32 C-order writing for tool outputs, and
// reading f32/i64/i32/u8 arrays for test data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gemma3n {

absl::Status WriteNpyF32(const std::string& path, absl::Span<const float> data,
                         const std::vector<int64_t>& shape);

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // converted to f32
};
absl::StatusOr<NpyArray> ReadNpyAsF32(const std::string& path);

}  // namespace gemma3n
