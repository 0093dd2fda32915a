#include "common/kernels/quantize.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/mapped_pages.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {

absl::StatusOr<WeightFormat> ParseWeightFormat(const std::string& name) {
  if (name == "bf16") return WeightFormat::kBf16;
  if (name == "int8") return WeightFormat::kInt8;
  if (name == "int4") return WeightFormat::kInt4;
  return absl::InvalidArgumentError(absl::StrCat("weight format '", name, "': choose bf16, int8 or int4"));
}

const char* WeightFormatName(WeightFormat f) {
  switch (f) {
    case WeightFormat::kInt8: return "int8";
    case WeightFormat::kInt4: return "int4";
    case WeightFormat::kBf16: break;
  }
  return "bf16";
}

namespace {

// After a conversion: drops w's pages if it is a view of the checkpoint
// mapping (not memory of its own, which nothing else would free).
void ReleaseSource(const WeightMatrix& w) {
  if (w.format != WeightMatrix::Format::kBF16 || w.owned || w.keep_alive) return;
  ReleaseMappedPages(w.data, static_cast<size_t>(w.rows * w.stride * 2));
}

// Quantizes every 32-weight block of w with `levels` steps on each side of
// zero; `store(q, out)` packs one block's quantized values [kInt8Block] into
// its bytes_per_block bytes.
template <typename Store>
absl::StatusOr<WeightMatrix> QuantizeBlocks(ThreadPool& pool, const WeightMatrix& w, bool release_source, WeightMatrix::Format format,
                                            float levels, int64_t bytes_per_block, Store store) {
  if (w.format == format) return w;
  if (w.format != WeightMatrix::Format::kBF16 && w.format != WeightMatrix::Format::kF32) {
    return absl::InvalidArgumentError("only bf16 or f32 weights can be quantized");
  }
  if (w.cols % kInt8Block != 0 || w.stride != w.cols) {
    return absl::InvalidArgumentError(absl::StrCat("cannot quantize a [", w.rows, ", ", w.cols,
                                                   "] matrix view: columns must be a whole multiple of ",
                                                   kInt8Block));
  }
  const int64_t blocks = w.cols / kInt8Block;
  auto q = std::make_shared<std::vector<int8_t>>(static_cast<size_t>(w.rows * blocks * bytes_per_block));
  auto scales = std::make_shared<std::vector<float>>(static_cast<size_t>(w.rows * blocks));
  pool.ParallelFor(w.rows, w.cols, 1 << 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = r0; r < r1; ++r) {
      w.RowToF32(r, row.data());
      for (int64_t b = 0; b < blocks; ++b) {
        int8_t block[kInt8Block];
        (*scales)[r * blocks + b] = QuantizeBlock(row.data() + b * kInt8Block, levels, block);
        store(block, q->data() + (r * blocks + b) * bytes_per_block);
      }
    }
  });
  if (release_source) ReleaseSource(w);
  WeightMatrix out;
  out.format = format;
  out.rows = w.rows;
  out.cols = w.cols;
  out.stride = w.cols;
  out.data = q->data();
  out.scales = scales->data();
  out.owned_int8 = std::move(q);
  out.owned = std::move(scales);
  return out;
}

// dst [cols, rows] = src [rows, cols]^T; src rows are `stride` apart. Tiles of
// 64 x 64 keep both the rows read and the rows written in cache.
template <typename T>
void TransposeInto(ThreadPool& pool, const T* src, int64_t rows, int64_t cols, int64_t stride, T* dst) {
  constexpr int64_t kTile = 64;
  pool.ParallelFor((rows + kTile - 1) / kTile, [&](int64_t t0, int64_t t1) {
    for (int64_t r0 = t0 * kTile; r0 < std::min(rows, t1 * kTile); r0 += kTile) {
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r) {
          for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) dst[c * rows + r] = src[r * stride + c];
        }
      }
    }
  });
}

}  // namespace

absl::StatusOr<WeightMatrix> TransposeWeights(ThreadPool& pool, const WeightMatrix& w, bool release_source) {
  WeightMatrix t;
  t.format = w.format;
  t.rows = w.cols;
  t.cols = w.rows;
  t.stride = w.rows;
  if (w.format == WeightMatrix::Format::kF32) {
    t.owned = std::make_shared<std::vector<float>>(static_cast<size_t>(w.rows * w.cols));
    TransposeInto(pool, w.f32_row(0), w.rows, w.cols, w.stride, t.owned->data());
    t.data = t.owned->data();
    return t;
  }
  if (w.format != WeightMatrix::Format::kBF16) {
    return absl::InvalidArgumentError("only bf16 and f32 weights are transposed (before any conversion)");
  }
  auto out = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(w.rows * w.cols));
  TransposeInto(pool, w.bf16_row(0), w.rows, w.cols, w.stride, out->data());
  if (release_source) ReleaseSource(w);
  t.data = out->data();
  t.keep_alive = std::move(out);
  return t;
}

float QuantizeBlock(const float* v, float levels, int8_t* q) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < kInt8Block; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));
  const float scale = max_abs / levels, inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t i = 0; i < kInt8Block; ++i) {
    // Round half away from zero (std::lround's rule), branch-free so that it
    // vectorises: this runs on every activation block of the VNNI kernels.
    const float s = v[i] * inv, t = std::trunc(s);
    const float step = std::fabs(s - t) >= 0.5f ? 1.0f : 0.0f;
    q[i] = static_cast<int8_t>(t + std::copysign(step, s));
  }
  return scale;
}

absl::StatusOr<WeightMatrix> QuantizeInt8(ThreadPool& pool, const WeightMatrix& w, bool release_source) {
  return QuantizeBlocks(pool, w, release_source, WeightMatrix::Format::kInt8, 127.0f, kInt8Block,
                        [](const int8_t* q, int8_t* out) { std::copy_n(q, kInt8Block, out); });
}

absl::StatusOr<WeightMatrix> QuantizeInt4(ThreadPool& pool, const WeightMatrix& w, bool release_source) {
  // Byte i: weight i in the low nibble, weight i + 16 in the high one, each + 8.
  return QuantizeBlocks(pool, w, release_source, WeightMatrix::Format::kInt4, 7.0f, kInt8Block / 2,
                        [](const int8_t* q, int8_t* out) {
                          for (int64_t i = 0; i < kInt8Block / 2; ++i) {
                            out[i] = static_cast<int8_t>(static_cast<uint8_t>((q[i] + 8) | ((q[i + 16] + 8) << 4)));
                          }
                        });
}

}  // namespace gemma3n
