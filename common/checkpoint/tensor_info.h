// A view of one tensor inside a memory-mapped safetensors file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/checkpoint/dtype.h"

namespace gemma3n {

// Elements of a tensor of this shape (1 for a scalar).
int64_t NumElements(const std::vector<int64_t>& shape);

struct TensorInfo {
  std::string name;
  std::string file;             // path of the safetensors file that holds it
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;   // row-major, as stored
  const uint8_t* data = nullptr;  // into the mapping; valid while the Checkpoint lives
  size_t nbytes = 0;

  int64_t NumElements() const;
  std::string ShapeString() const;  // "[262400, 2048]"
};

// A tensor's name and shape: what a checkpoint of some config holds, for
// writing synthetic checkpoints of the real sizes.
struct NamedShape {
  std::string name;
  std::vector<int64_t> shape;
};

// Converts a floating-point tensor (f32, f16, bf16, f64) to f32 into `out`,
// which must hold NumElements() floats. InvalidArgument for other dtypes.
absl::Status CopyToF32(const TensorInfo& tensor, absl::Span<float> out);
std::vector<float> ToF32Vector(const TensorInfo& tensor);  // dies on non-float: check dtype first

}  // namespace gemma3n
