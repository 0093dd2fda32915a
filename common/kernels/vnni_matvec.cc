#include "common/kernels/vnni_matvec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/kernels/quantize.h"
#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

// Rows of x quantized per block and laid out for the VNNI kernels (see
// VnniRow): each array holds n rows of its per-row size.
struct PreparedRows {
  int64_t cols = 0, blocks = 0;
  std::vector<int8_t> q, int4_order;
  std::vector<uint8_t> q_plus128;
  std::vector<float> scale, scale_pairs, scale_quads;
  std::vector<int32_t> sum, int4_bias;

  VnniRow Row(int64_t t) const {
    // The decode-only arrays are empty for the prompt GEMM: null then.
    auto at = [](const auto& v, int64_t offset) { return v.empty() ? nullptr : v.data() + offset; };
    return {q.data() + t * cols,        scale.data() + t * blocks,           sum.data() + t * blocks,
            at(q_plus128, t * cols),    at(scale_pairs, t * 16 * (blocks / 2)), at(int4_order, t * cols),
            at(int4_bias, t * 16 * (blocks / 4)), at(scale_quads, t * 16 * (blocks / 4))};
  }
};

// decode_layouts: also the decode kernels' arrays (q + 128, scale pairs,
// the int4 order); the prompt GEMM reads only q, scale and sum.
PreparedRows PrepareRows(ThreadPool& pool, const float* x, int64_t n, int64_t cols, bool decode_layouts) {
  PreparedRows p;
  p.cols = cols;
  p.blocks = cols / kInt8Block;
  const int64_t blocks = p.blocks, pairs = blocks / 2, quads = blocks / 4;
  p.q.resize(static_cast<size_t>(n * cols));
  p.scale.resize(static_cast<size_t>(n * blocks));
  p.sum.resize(p.scale.size());
  if (decode_layouts) {
    p.q_plus128.resize(p.q.size());
    p.int4_order.resize(p.q.size());
    p.scale_pairs.resize(static_cast<size_t>(n * pairs * 16));
    p.int4_bias.resize(static_cast<size_t>(n * quads * 16));
    p.scale_quads.resize(p.int4_bias.size());
  }
  // Rows of x are independent: spread over the pool (prompts quantize
  // hundreds of rows per product).
  pool.ParallelFor(n, 4 * cols, 1 << 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int8_t* q = p.q.data() + t * cols;
      float* scale = p.scale.data() + t * blocks;
      int32_t* sum = p.sum.data() + t * blocks;
      for (int64_t b = 0; b < blocks; ++b) {
        scale[b] = QuantizeBlock(x + t * cols + b * kInt8Block, 127.0f, q + b * kInt8Block);
        sum[b] = 0;
        for (int64_t i = 0; i < kInt8Block; ++i) sum[b] += q[b * kInt8Block + i];
      }
      if (!decode_layouts) continue;
      for (int64_t i = 0; i < cols; ++i) p.q_plus128[t * cols + i] = static_cast<uint8_t>(q[i] + 128);
      for (int64_t b = 0; b < pairs * 2; ++b) {
        for (int l = 0; l < 8; ++l) p.scale_pairs[(t * pairs + b / 2) * 16 + (b % 2) * 8 + l] = scale[b];
      }
      int8_t* order = p.int4_order.data() + t * cols;
      for (int64_t g = 0; g < quads; ++g) {
        for (int j = 0; j < 4; ++j) {
          const int64_t b = 4 * g + j;
          for (int i = 0; i < 16; ++i) {
            order[g * 128 + j * 16 + i] = q[b * kInt8Block + i];
            order[g * 128 + 64 + j * 16 + i] = q[b * kInt8Block + 16 + i];
          }
          for (int l = 0; l < 4; ++l) {
            p.int4_bias[(t * quads + g) * 16 + j * 4 + l] = -2 * sum[b];
            p.scale_quads[(t * quads + g) * 16 + j * 4 + l] = scale[b];
          }
        }
      }
    }
  });
  return p;
}

// Rows [r0, r0 + rows) of w (int8 or int4) as a VnniPanel; rows past `rows`
// (up to 16) are zero weights with scale 0.
void RepackPanel(const WeightMatrix& w, int64_t r0, int rows, std::vector<uint8_t>& weights,
                 std::vector<float>& scales) {
  const int64_t blocks = w.cols / kInt8Block;
  weights.assign(static_cast<size_t>(blocks * 8 * 64), 128);
  scales.assign(static_cast<size_t>(blocks * 16), 0.0f);
  std::vector<int8_t> row(static_cast<size_t>(w.cols));
  for (int r = 0; r < rows; ++r) {
    if (w.format == WeightMatrix::Format::kInt8) {
      std::copy_n(w.int8_row(r0 + r), w.cols, row.begin());
    } else {  // int4: byte i of a block = weight i (low nibble), i + 16 (high), each + 8
      const uint8_t* q = w.int4_row(r0 + r);
      for (int64_t b = 0; b < blocks; ++b) {
        for (int64_t i = 0; i < 16; ++i) {
          row[b * kInt8Block + i] = static_cast<int8_t>((q[b * 16 + i] & 0xF) - 8);
          row[b * kInt8Block + 16 + i] = static_cast<int8_t>((q[b * 16 + i] >> 4) - 8);
        }
      }
    }
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t step = 0; step < 8; ++step) {
        // 4 weights at once; + 128 on an int8 is flipping its top bit.
        uint32_t four;
        std::memcpy(&four, row.data() + b * kInt8Block + step * 4, 4);
        four ^= 0x80808080u;
        std::memcpy(weights.data() + ((b * 8 + step) * 16 + r) * 4, &four, 4);
      }
      scales[b * 16 + r] = w.scale_row(r0 + r)[b];
    }
  }
}

}  // namespace

void GemmVnni(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y) {
  const DotKernels& k = Kernels();
  const PreparedRows prepared = PrepareRows(pool, x, n, w.cols, /*decode_layouts=*/false);
  std::vector<VnniRow> rows;
  for (int64_t t = 0; t < n; ++t) rows.push_back(prepared.Row(t));
  const int64_t blocks = w.cols / kInt8Block, panels = (w.rows + 15) / 16;
  // Each panel is repacked once and multiplied with every row of x.
  pool.ParallelFor(panels, n * 16 * w.cols, 1 << 16, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<uint8_t> weights;
    thread_local std::vector<float> scales;
    for (int64_t p = p0; p < p1; ++p) {
      const int count = static_cast<int>(std::min<int64_t>(16, w.rows - p * 16));
      RepackPanel(w, p * 16, count, weights, scales);
      k.vnni_gemm_panel({weights.data(), scales.data()}, blocks, rows.data(), n, y + p * 16, w.rows, count);
    }
  });
}

void MatVecVnni(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y) {
  const DotKernels& k = Kernels();
  const PreparedRows prepared = PrepareRows(pool, x, n, w.cols, /*decode_layouts=*/true);
  std::vector<VnniRow> rows;
  for (int64_t t = 0; t < n; ++t) rows.push_back(prepared.Row(t));
  const int64_t blocks = w.cols / kInt8Block;
  const bool int4 = w.format == WeightMatrix::Format::kInt4;
  pool.ParallelFor(w.rows, n * w.cols, 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t t = 0; t < n; ++t) {
        y[t * w.rows + r] = int4 ? k.vnni_dot_int4(w.int4_row(r), w.scale_row(r), rows[t], blocks)
                                 : k.vnni_dot_int8(w.int8_row(r), w.scale_row(r), rows[t], blocks);
      }
    }
  });
}

}  // namespace gemma3n
