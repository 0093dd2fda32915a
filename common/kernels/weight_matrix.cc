#include "common/kernels/weight_matrix.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/kernels/simd/dot_kernels.h"
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

void WeightMatrix::ColsToF32(int64_t r, int64_t c0, int64_t c1, float* out) const {
  // c0 starts a block for the int formats (scale c0 / 32, int4 byte c0 / 2).
  const DotKernels& k = Kernels();
  switch (format) {
    case Format::kF32: std::memcpy(out, f32_row(r) + c0, sizeof(float) * (c1 - c0)); return;
    case Format::kBF16: k.widen_bf16(bf16_row(r) + c0, c1 - c0, out); return;
    case Format::kInt8: k.widen_int8(int8_row(r) + c0, scale_row(r) + c0 / kInt8Block, c1 - c0, out); return;
    case Format::kInt4: k.widen_int4(int4_row(r) + c0 / 2, scale_row(r) + c0 / kInt8Block, c1 - c0, out); return;
  }
}

absl::StatusOr<WeightMatrix> LoadWeightMatrix(const Checkpoint& ckpt, const std::string& name,
                                              int64_t rows, int64_t cols) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, {rows, cols}));
  return WeightMatrixFromTensor(t, rows, cols);
}

absl::StatusOr<WeightMatrix> WeightMatrixFromTensor(const TensorInfo& t, int64_t rows, int64_t cols) {
  if (t.NumElements() != rows * cols) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " has shape ", t.ShapeString(),
                                                   ", not ", rows * cols, " elements"));
  }
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
      return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " has dtype ",
                                                     DTypeName(t.dtype), ", expected a float type"));
  }
}

absl::Status LoadIntoSlot(const Checkpoint& ckpt, const std::string& name, const std::vector<int64_t>& shape,
                          WeightSlot slot) {
  if (std::vector<float>* const* v = std::get_if<std::vector<float>*>(&slot)) {
    ASSIGN_OR_RETURN(**v, LoadF32(ckpt, name, shape));
  } else if (WeightMatrix* const* m = std::get_if<WeightMatrix*>(&slot)) {
    ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, shape));
    const int64_t rows = shape.empty() ? 1 : shape[0];
    ASSIGN_OR_RETURN(**m, WeightMatrixFromTensor(t, rows, rows == 0 ? 0 : NumElements(shape) / rows));
  }
  return absl::OkStatus();
}

absl::Status LoadIntoSlot(const Checkpoint& ckpt, const NamedWeightSlot& t) {
  return LoadIntoSlot(ckpt, t.name, t.shape, t.slot);
}

absl::StatusOr<std::vector<float>> LoadVector(const Checkpoint& ckpt, const std::string& name, int64_t n) {
  return LoadF32(ckpt, name, {n});
}

absl::StatusOr<std::vector<float>> LoadF32(const Checkpoint& ckpt, const std::string& name,
                                           const std::vector<int64_t>& shape) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, shape));
  std::vector<float> out(static_cast<size_t>(t.NumElements()));
  RETURN_IF_ERROR(CopyToF32(t, absl::MakeSpan(out)));
  return out;
}

}  // namespace gemma3n
