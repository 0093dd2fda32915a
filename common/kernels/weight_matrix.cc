#include "common/kernels/weight_matrix.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace gemma3n {

WeightMatrix WeightMatrix::TopRows(int64_t n) const {
  WeightMatrix v = *this;
  v.rows = n;
  return v;
}

WeightMatrix WeightMatrix::LeftCols(int64_t n) const {
  WeightMatrix v = *this;
  v.cols = n;
  return v;
}

void WeightMatrix::RowToF32(int64_t r, float* out) const {
  if (format == Format::kF32) {
    std::memcpy(out, f32_row(r), sizeof(float) * cols);
    return;
  }
  if (format == Format::kInt4) {
    const uint8_t* q = int4_row(r);
    const float* scale = scale_row(r);
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t b = c / kInt8Block, i = c % kInt8Block;
      const uint8_t byte = q[b * kInt8Block / 2 + (i % 16)];
      const int nibble = i < 16 ? (byte & 0xF) : (byte >> 4);
      out[c] = scale[b] * static_cast<float>(nibble - 8);
    }
    return;
  }
  if (format == Format::kInt8) {
    const int8_t* q = int8_row(r);
    const float* scale = scale_row(r);
    for (int64_t c = 0; c < cols; ++c) out[c] = scale[c / kInt8Block] * static_cast<float>(q[c]);
    return;
  }
  const uint16_t* src = bf16_row(r);
  for (int64_t c = 0; c < cols; ++c) out[c] = Bf16ToF32(src[c]);
}

absl::StatusOr<WeightMatrix> LoadWeightMatrix(const Checkpoint& ckpt, const std::string& name,
                                              int64_t rows, int64_t cols) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, {rows, cols}));
  WeightMatrix w;
  w.rows = rows;
  w.cols = cols;
  w.stride = cols;
  switch (t.dtype) {
    case DType::kBF16:
      w.format = WeightMatrix::Format::kBF16;
      w.data = t.data;
      return w;
    case DType::kF32:
    case DType::kF16:
    case DType::kF64: {
      // f32 is copied too: the mapping gives no alignment guarantee for floats.
      w.owned = std::make_shared<std::vector<float>>(static_cast<size_t>(rows * cols));
      RETURN_IF_ERROR(CopyToF32(t, absl::MakeSpan(*w.owned)));
      w.format = WeightMatrix::Format::kF32;
      w.data = w.owned->data();
      return w;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " in ", t.file, " has dtype ",
                                                     DTypeName(t.dtype), ", expected a float type"));
  }
}

absl::StatusOr<std::vector<float>> LoadVector(const Checkpoint& ckpt, const std::string& name, int64_t n) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, {n}));
  std::vector<float> out(static_cast<size_t>(n));
  RETURN_IF_ERROR(CopyToF32(t, absl::MakeSpan(out)));
  return out;
}

}  // namespace gemma3n
