#include "common/kernels/vnni_matvec.h"

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#include <immintrin.h>
#define GEMMA3N_HAVE_VNNI 1
#endif

#include "common/kernels/quantize.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

// x rows quantized per block: q [n, cols] int8, scale and sum [n, cols / 32].
struct QuantizedRows {
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> sum;
};

QuantizedRows QuantizeRows(const float* x, int64_t n, int64_t cols) {
  const int64_t blocks = cols / kInt8Block;
  QuantizedRows out;
  out.q.resize(static_cast<size_t>(n * cols));
  out.scale.resize(static_cast<size_t>(n * blocks));
  out.sum.resize(static_cast<size_t>(n * blocks));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < blocks; ++b) {
      int8_t* q = out.q.data() + t * cols + b * kInt8Block;
      out.scale[t * blocks + b] = QuantizeBlock(x + t * cols + b * kInt8Block, 127.0f, q);
      int32_t sum = 0;
      for (int64_t i = 0; i < kInt8Block; ++i) sum += q[i];
      out.sum[t * blocks + b] = sum;
    }
  }
  return out;
}

#if GEMMA3N_HAVE_VNNI
// One int4 row of W against one quantized row of x.
float DotRowInt4(const uint8_t* w, const float* w_scale, const int8_t* xq, const float* x_scale, const int32_t* x_sum,
             int64_t blocks) {
  __m512 acc = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  float correction = 0.0f;
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    // 32 bytes = blocks b and b+1 (16 each) -> 128-bit lanes [b, b, b+1, b+1],
    // low nibbles in lanes 0 and 2 (elements 0-15), high in 1 and 3 (16-31).
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + b * 16));
    __m512i p = _mm512_inserti64x4(_mm512_castsi256_si512(packed), packed, 1);  // [b, b+1, b, b+1]
    p = _mm512_shuffle_i64x2(p, p, _MM_SHUFFLE(3, 1, 2, 0));                    // [b, b, b+1, b+1]
    const __m512i nibbles = _mm512_and_si512(_mm512_mask_blend_epi64(0xCC, p, _mm512_srli_epi16(p, 4)), low4);
    const __m512i x = _mm512_loadu_si512(xq + b * kInt8Block);
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), nibbles, x);  // lanes 0-7: b, 8-15: b+1
    const float s0 = w_scale[b] * x_scale[b], s1 = w_scale[b + 1] * x_scale[b + 1];
    const __m512 scale = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc);
    correction += s0 * x_sum[b] + s1 * x_sum[b + 1];
  }
  float total = _mm512_reduce_add_ps(acc) - 8.0f * correction;
  for (; b < blocks; ++b) {  // an odd last block
    int32_t dot = 0;
    for (int64_t i = 0; i < 16; ++i) {
      const uint8_t byte = w[b * 16 + i];
      dot += (byte & 0xF) * xq[b * kInt8Block + i] + (byte >> 4) * xq[b * kInt8Block + i + 16];
    }
    total += w_scale[b] * x_scale[b] * static_cast<float>(dot - 8 * x_sum[b]);
  }
  return total;
}
// One int8 row of W against one quantized row of x.
float DotRowInt8(const int8_t* w, const float* w_scale, const int8_t* xq, const float* x_scale, int64_t blocks) {
  __m512 acc = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m512i wq = _mm512_loadu_si512(w + b * kInt8Block);
    const __m512i x = _mm512_loadu_si512(xq + b * kInt8Block);
    // vpdpbusd wants its first operand unsigned: |w| times x with w's sign.
    const __mmask64 negative = _mm512_movepi8_mask(wq);
    const __m512i signed_x = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(wq), signed_x);
    const __m512 scale = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(w_scale[b] * x_scale[b]),
                                              _mm512_set1_ps(w_scale[b + 1] * x_scale[b + 1]));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc);
  }
  float total = _mm512_reduce_add_ps(acc);
  for (; b < blocks; ++b) {
    int32_t dot = 0;
    for (int64_t i = 0; i < kInt8Block; ++i) dot += w[b * kInt8Block + i] * xq[b * kInt8Block + i];
    total += w_scale[b] * x_scale[b] * static_cast<float>(dot);
  }
  return total;
}
#endif

}  // namespace

bool VnniAvailable() {
#if GEMMA3N_HAVE_VNNI
  static const bool available = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
  return available;
#else
  return false;
#endif
}

void MatVecVnni(const float* x, int64_t n, const WeightMatrix& w, float* y) {
#if GEMMA3N_HAVE_VNNI
  const QuantizedRows xq = QuantizeRows(x, n, w.cols);
  const int64_t blocks = w.cols / kInt8Block, x_blocks = w.cols / kInt8Block;
  ThreadPool::Default().ParallelFor(w.rows, n * w.cols, 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t t = 0; t < n; ++t) {
        const int8_t* xr = xq.q.data() + t * w.cols;
        const float* xs = xq.scale.data() + t * x_blocks;
        y[t * w.rows + r] = w.format == WeightMatrix::Format::kInt4
                                ? DotRowInt4(w.int4_row(r), w.scale_row(r), xr, xs, xq.sum.data() + t * x_blocks, blocks)
                                : DotRowInt8(w.int8_row(r), w.scale_row(r), xr, xs, blocks);
      }
    }
  });
#else
  (void)x;
  (void)n;
  (void)w;
  (void)y;
#endif
}

}  // namespace gemma3n
