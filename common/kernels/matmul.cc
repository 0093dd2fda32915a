#include "common/kernels/matmul.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

// Below this many rows of x the weight is streamed once per row of x with the
// dot kernel; above it, widening blocks of W for sgemm pays off.
constexpr int64_t kGemmMinRows = 4;
constexpr int64_t kGemmBlockRows = 256;
// Multiply-adds below which a kernel runs on the calling thread alone.
constexpr int64_t kMinParallelWork = 1 << 16;

float DotF32(const float* x, const float* w, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += x[i] * w[i];
  return acc;
}

void MatVecRows(const float* x, int64_t n, const WeightMatrix& w, float* y) {
  ThreadPool::Default().ParallelFor(w.rows, n * w.cols, kMinParallelWork, [&](int64_t r0, int64_t r1) {
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * w.cols;
      float* yt = y + t * w.rows;
      for (int64_t r = r0; r < r1; ++r) {
        yt[r] = w.format == WeightMatrix::Format::kBF16 ? DotBf16(xt, w.bf16_row(r), w.cols)
                                                        : DotF32(xt, w.f32_row(r), w.cols);
      }
    }
  });
}

void GemmF32(const float* x, int64_t n, const float* w, int64_t rows, int64_t cols, int64_t ldw, float* y,
             int64_t ldy) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(rows),
              static_cast<int>(cols), 1.0f, x, static_cast<int>(cols), w, static_cast<int>(ldw), 0.0f, y,
              static_cast<int>(ldy));
}

}  // namespace

float DotBf16(const float* x, const uint16_t* w, int64_t n) {
  int64_t i = 0;
  float acc = 0.0f;
#if defined(__AVX512F__)
  __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    __m512i w0 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i))), 16);
    __m512i w1 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i + 16))), 16);
    sum0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_castsi512_ps(w0), sum0);
    sum1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_castsi512_ps(w1), sum1);
  }
  acc = _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
#endif
  for (; i < n; ++i) acc += x[i] * Bf16ToF32(w[i]);
  return acc;
}

void MatMul(const float* x, int64_t n, const WeightMatrix& w, float* y) {
  if (n <= 0 || w.rows == 0) return;
  if (n < kGemmMinRows) {
    MatVecRows(x, n, w, y);
    return;
  }
  if (w.format == WeightMatrix::Format::kF32) {
    GemmF32(x, n, w.f32_row(0), w.rows, w.cols, w.stride, y, w.rows);
    return;
  }
  std::vector<float> block(static_cast<size_t>(std::min(kGemmBlockRows, w.rows) * w.cols));
  for (int64_t r0 = 0; r0 < w.rows; r0 += kGemmBlockRows) {
    const int64_t rows = std::min(kGemmBlockRows, w.rows - r0);
    ThreadPool::Default().ParallelFor(rows, w.cols, kMinParallelWork, [&](int64_t a, int64_t b) {
      for (int64_t r = a; r < b; ++r) {
        const uint16_t* src = w.bf16_row(r0 + r);
        float* dst = block.data() + r * w.cols;
        for (int64_t c = 0; c < w.cols; ++c) dst[c] = Bf16ToF32(src[c]);
      }
    });
    GemmF32(x, n, block.data(), rows, w.cols, w.cols, y + r0, w.rows);
  }
}

}  // namespace gemma3n
