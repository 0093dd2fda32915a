#include "common/checkpoint/tensor_info.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gemma3n {

int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorInfo::NumElements() const { return gemma3n::NumElements(shape); }

std::string TensorInfo::ShapeString() const { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

absl::Status CopyToF32(const TensorInfo& t, absl::Span<float> out) {
  const int64_t n = t.NumElements();
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name, ": output holds ", out.size(), " floats, tensor has ", n));
  }
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), t.data, n * sizeof(float));
      return absl::OkStatus();
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, t.data + 2 * i, 2);
        out[i] = Bf16ToF32(b);
      }
      return absl::OkStatus();
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, t.data + 2 * i, 2);
        out[i] = F16ToF32(b);
      }
      return absl::OkStatus();
    case DType::kF64:
      for (int64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " has dtype ",
                                                     DTypeName(t.dtype), ", not a floating-point type"));
  }
}

std::vector<float> ToF32Vector(const TensorInfo& t) {
  std::vector<float> out(t.NumElements());
  absl::Status s = CopyToF32(t, absl::MakeSpan(out));
  if (!s.ok()) std::abort();
  return out;
}

}  // namespace gemma3n
