// A 2-D weight W [rows, cols] (PyTorch Linear layout: [out, in]) as the kernels
// see it. bf16 weights stay in the memory-mapped checkpoint (no copy, no
// doubling of memory); f16 weights are widened to f32 once at load. `stride`
// is the distance between rows, so a prefix of the columns is a view without a
// copy (MatFormer slices the FFN this way).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "common/checkpoint/checkpoint.h"

namespace gemma3n {

// Block size of the 8- and 4-bit formats: each run of 32 weights of a row
// shares one f32 scale. int8: w ~= scale * q, q in [-127, 127] (like GGML's
// Q8_0). int4: w ~= scale * (q - 8), q in [1, 15], two per byte: byte i of a
// block holds weight i in its low nibble and weight i + 16 in its high one
// (GGML's Q4_0 order).
inline constexpr int64_t kInt8Block = 32;

struct WeightMatrix {
  enum class Format { kF32, kBF16, kInt8, kInt4 };
  Format format = Format::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t stride = 0;          // elements between consecutive rows
  const void* data = nullptr;  // rows x stride elements of `format`
  std::shared_ptr<std::vector<float>> owned;  // set when the data was converted
  // kInt8 / kInt4: scales [rows, stride / kInt8Block], and the storage of both.
  // `stride` counts weights (an int4 row takes stride / 2 bytes).
  const float* scales = nullptr;
  std::shared_ptr<std::vector<int8_t>> owned_int8;
  // Any other storage `data` / `scales` point into (e.g. the mapping of a
  // cache file of converted weights), kept alive as long as the matrix.
  std::shared_ptr<const void> keep_alive;

  const float* f32_row(int64_t r) const { return static_cast<const float*>(data) + r * stride; }
  const uint16_t* bf16_row(int64_t r) const { return static_cast<const uint16_t*>(data) + r * stride; }
  const int8_t* int8_row(int64_t r) const { return static_cast<const int8_t*>(data) + r * stride; }
  const uint8_t* int4_row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * stride / 2; }
  const float* scale_row(int64_t r) const { return scales + r * (stride / kInt8Block); }

  // Views: the first `n` rows; the first `n` columns (same rows).
  WeightMatrix TopRows(int64_t n) const;
  WeightMatrix LeftCols(int64_t n) const;
  // Copies row r into out[cols] as f32 (embedding lookup).
  void RowToF32(int64_t r, float* out) const { ColsToF32(r, 0, cols, out); }
  // Columns [c0, c1) of row r into out[c1 - c0] as f32; c0 a multiple of
  // kInt8Block for the int formats.
  void ColsToF32(int64_t r, int64_t c0, int64_t c1, float* out) const;
};

// Loads checkpoint tensor `name`, checking that its shape is [rows, cols].
absl::StatusOr<WeightMatrix> LoadWeightMatrix(const Checkpoint& ckpt, const std::string& name,
                                              int64_t rows, int64_t cols);
// The matrix [rows, cols] of a tensor of rows * cols elements (e.g. a 1x1
// convolution [out, in, 1, 1]): bf16 stays in the mapping, other floats are
// widened to f32.
absl::StatusOr<WeightMatrix> WeightMatrixFromTensor(const TensorInfo& t, int64_t rows, int64_t cols);
// Where a loaded tensor goes: nowhere, an f32 copy (vectors, small
// matrices, convolution kernels), or a WeightMatrix [shape[0], the product of
// the other dimensions] (a 1x1 convolution [out, in, 1, 1] is [out, in]).
using WeightSlot = std::variant<std::monostate, std::vector<float>*, WeightMatrix*>;
// Loads tensor `name`, checking that its shape is `shape`, into `slot`.
absl::Status LoadIntoSlot(const Checkpoint& ckpt, const std::string& name, const std::vector<int64_t>& shape,
                          WeightSlot slot);

// One tensor of a part's table as its visitors see it.
struct NamedWeightSlot {
  std::string name;            // the full checkpoint name
  std::vector<int64_t> shape;  // as the checkpoint stores it
  WeightSlot slot;             // into the visited weights
};
// LoadIntoSlot of its name, shape and slot.
absl::Status LoadIntoSlot(const Checkpoint& ckpt, const NamedWeightSlot& t);
// Loads a 1-D tensor of length n as f32 (norm scales and other small vectors).
absl::StatusOr<std::vector<float>> LoadVector(const Checkpoint& ckpt, const std::string& name, int64_t n);
// Loads a tensor of exactly `shape` as f32, row-major (small matrices, kernels).
absl::StatusOr<std::vector<float>> LoadF32(const Checkpoint& ckpt, const std::string& name,
                                           const std::vector<int64_t>& shape);

}  // namespace gemma3n
