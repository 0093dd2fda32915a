#include "common/kernels/matmul.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "common/kernels/vnni_matvec.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

// Below this many rows of x (decoding, batched decoding) the bf16 weights are
// streamed once with the dot kernels; above it (prompts), widening blocks of W
// for sgemm pays off.
constexpr int64_t kGemmMinRows = 24;
constexpr int64_t kGemmBlockRows = 256;
// Multiply-adds below which a kernel runs on the calling thread alone.
constexpr int64_t kMinParallelWork = 1 << 16;

// y[t, r] for up to kGroup rows t of x at once: each 16 weights are widened
// once and multiplied into every row's accumulator, so a batch of decoding
// sequences reads each weight row once. w_row: bf16 [cols].
constexpr int kGroup = 8;
void DotBf16Group(const float* x, int64_t ldx, int group, const uint16_t* w_row, int64_t cols, float* y,
                  int64_t ldy) {
  int64_t i = 0;
#if defined(__AVX512F__)
  __m512 acc[kGroup];
  for (int t = 0; t < group; ++t) acc[t] = _mm512_setzero_ps();
  for (; i + 16 <= cols; i += 16) {
    const __m512 w16 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w_row + i))), 16));
    for (int t = 0; t < group; ++t) acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(x + t * ldx + i), w16, acc[t]);
  }
  for (int t = 0; t < group; ++t) y[t * ldy] = _mm512_reduce_add_ps(acc[t]);
#else
  for (int t = 0; t < group; ++t) y[t * ldy] = 0.0f;
#endif
  for (; i < cols; ++i) {
    const float wv = Bf16ToF32(w_row[i]);
    for (int t = 0; t < group; ++t) y[t * ldy] += x[t * ldx + i] * wv;
  }
}

// The 8-bit counterparts: per 32-weight block, widen int8 -> f32, dot with x,
// then scale the block's partial sum. q, scale: one row of W.
float DotInt8(const float* x, const int8_t* q, const float* scale, int64_t cols) {
  int64_t i = 0;
  float acc = 0.0f;
#if defined(__AVX512F__)
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  for (; i + 2 * kInt8Block <= cols; i += 2 * kInt8Block) {
    const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i))));
    const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i + 16))));
    const __m512 w2 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i + 32))));
    const __m512 w3 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i + 48))));
    const __m512 b0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), w1, _mm512_mul_ps(_mm512_loadu_ps(x + i), w0));
    const __m512 b1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), w3, _mm512_mul_ps(_mm512_loadu_ps(x + i + 32), w2));
    a0 = _mm512_fmadd_ps(b0, _mm512_set1_ps(scale[i / kInt8Block]), a0);
    a1 = _mm512_fmadd_ps(b1, _mm512_set1_ps(scale[i / kInt8Block + 1]), a1);
  }
  acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
#endif
  for (; i < cols; ++i) acc += x[i] * scale[i / kInt8Block] * static_cast<float>(q[i]);
  return acc;
}

void DotInt8Group(const float* x, int64_t ldx, int group, const int8_t* q, const float* scale, int64_t cols,
                  float* y, int64_t ldy) {
  int64_t i = 0;
#if defined(__AVX512F__)
  __m512 acc[kGroup];
  for (int t = 0; t < group; ++t) acc[t] = _mm512_setzero_ps();
  for (; i + kInt8Block <= cols; i += kInt8Block) {
    const __m512 s = _mm512_set1_ps(scale[i / kInt8Block]);
    const __m512 w0 = _mm512_mul_ps(s, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i)))));
    const __m512 w1 =
        _mm512_mul_ps(s, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(q + i + 16)))));
    for (int t = 0; t < group; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(x + t * ldx + i), w0, acc[t]);
      acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(x + t * ldx + i + 16), w1, acc[t]);
    }
  }
  for (int t = 0; t < group; ++t) y[t * ldy] = _mm512_reduce_add_ps(acc[t]);
#else
  for (int t = 0; t < group; ++t) y[t * ldy] = 0.0f;
#endif
  for (; i < cols; ++i) {
    const float wv = scale[i / kInt8Block] * static_cast<float>(q[i]);
    for (int t = 0; t < group; ++t) y[t * ldy] += x[t * ldx + i] * wv;
  }
}

#if defined(__AVX512F__)
// One int4 block (16 bytes) -> its 32 weights as two f32 vectors (q - 8),
// weights 0-15 from the low nibbles and 16-31 from the high ones.
inline void UnpackInt4(const uint8_t* block, __m512* lo, __m512* hi) {
  const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
  const __m512i eight = _mm512_set1_epi32(8);
  *lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(bytes, _mm512_set1_epi32(0xF)), eight));
  *hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bytes, 4), eight));
}
#endif

float DotInt4(const float* x, const uint8_t* q, const float* scale, int64_t cols) {
  float acc = 0.0f;
  int64_t b = 0;
  const int64_t blocks = cols / kInt8Block;
#if defined(__AVX512F__)
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  for (; b + 2 <= blocks; b += 2) {
    __m512 l0, h0, l1, h1;
    UnpackInt4(q + b * 16, &l0, &h0);
    UnpackInt4(q + b * 16 + 16, &l1, &h1);
    const float* xb = x + b * kInt8Block;
    const __m512 s0 = _mm512_fmadd_ps(_mm512_loadu_ps(xb + 16), h0, _mm512_mul_ps(_mm512_loadu_ps(xb), l0));
    const __m512 s1 = _mm512_fmadd_ps(_mm512_loadu_ps(xb + 48), h1, _mm512_mul_ps(_mm512_loadu_ps(xb + 32), l1));
    a0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(scale[b]), a0);
    a1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(scale[b + 1]), a1);
  }
  acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
#endif
  for (; b < blocks; ++b) {
    for (int64_t i = 0; i < 16; ++i) {
      const uint8_t byte = q[b * 16 + i];
      acc += scale[b] * (x[b * kInt8Block + i] * ((byte & 0xF) - 8) + x[b * kInt8Block + i + 16] * ((byte >> 4) - 8));
    }
  }
  return acc;
}

void DotInt4Group(const float* x, int64_t ldx, int group, const uint8_t* q, const float* scale, int64_t cols,
                  float* y, int64_t ldy) {
  const int64_t blocks = cols / kInt8Block;
#if defined(__AVX512F__)
  __m512 acc[kGroup];
  for (int t = 0; t < group; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m512 lo, hi;
    UnpackInt4(q + b * 16, &lo, &hi);
    const __m512 s = _mm512_set1_ps(scale[b]);
    lo = _mm512_mul_ps(lo, s);
    hi = _mm512_mul_ps(hi, s);
    for (int t = 0; t < group; ++t) {
      const float* xb = x + t * ldx + b * kInt8Block;
      acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(xb), lo, acc[t]);
      acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(xb + 16), hi, acc[t]);
    }
  }
  for (int t = 0; t < group; ++t) y[t * ldy] = _mm512_reduce_add_ps(acc[t]);
#else
  for (int t = 0; t < group; ++t) y[t * ldy] = DotInt4(x + t * ldx, q, scale, cols);
#endif
}

void MatVecRows(const float* x, int64_t n, const WeightMatrix& w, float* y) {
  ThreadPool::Default().ParallelFor(w.rows, n * w.cols, kMinParallelWork, [&](int64_t r0, int64_t r1) {
    if (w.format != WeightMatrix::Format::kF32 && n > 1) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t t0 = 0; t0 < n; t0 += kGroup) {
          const int group = static_cast<int>(std::min<int64_t>(kGroup, n - t0));
          if (w.format == WeightMatrix::Format::kBF16) {
            DotBf16Group(x + t0 * w.cols, w.cols, group, w.bf16_row(r), w.cols, y + t0 * w.rows + r, w.rows);
          } else if (w.format == WeightMatrix::Format::kInt4) {
            DotInt4Group(x + t0 * w.cols, w.cols, group, w.int4_row(r), w.scale_row(r), w.cols, y + t0 * w.rows + r,
                         w.rows);
          } else {
            DotInt8Group(x + t0 * w.cols, w.cols, group, w.int8_row(r), w.scale_row(r), w.cols, y + t0 * w.rows + r,
                         w.rows);
          }
        }
      }
      return;
    }
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * w.cols;
      float* yt = y + t * w.rows;
      for (int64_t r = r0; r < r1; ++r) {
        switch (w.format) {
          case WeightMatrix::Format::kBF16: yt[r] = DotBf16(xt, w.bf16_row(r), w.cols); break;
          case WeightMatrix::Format::kInt8: yt[r] = DotInt8(xt, w.int8_row(r), w.scale_row(r), w.cols); break;
          case WeightMatrix::Format::kInt4: yt[r] = DotInt4(xt, w.int4_row(r), w.scale_row(r), w.cols); break;
          case WeightMatrix::Format::kF32: yt[r] = DotF32(xt, w.f32_row(r), w.cols); break;
        }
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

float DotF32(const float* x, const float* w, int64_t n) {
  int64_t i = 0;
  float acc = 0.0f;
#if defined(__AVX512F__)
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(w + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(w + i + 16), s1);
  }
  acc = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
#endif
  for (; i < n; ++i) acc += x[i] * w[i];
  return acc;
}

float DotBf16(const float* x, const uint16_t* w, int64_t n) {
  int64_t i = 0;
  float acc = 0.0f;
#if defined(__AVX512F__)
  // Four independent accumulators hide the FMA latency; the weights are
  // widened bf16 -> f32 by a 16-bit shift (exact).
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  for (; i + 64 <= n; i += 64) {
    const __m512i w0 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i))), 16);
    const __m512i w1 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i + 16))), 16);
    const __m512i w2 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i + 32))), 16);
    const __m512i w3 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i + 48))), 16);
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_castsi512_ps(w0), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_castsi512_ps(w1), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_castsi512_ps(w2), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_castsi512_ps(w3), s3);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512i w0 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w + i))), 16);
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_castsi512_ps(w0), s0);
  }
  acc = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
#endif
  for (; i < n; ++i) acc += x[i] * Bf16ToF32(w[i]);
  return acc;
}

bool MatMulQuantizesActivations(const WeightMatrix& w, int64_t n) {
  return n < kGemmMinRows &&
         (w.format == WeightMatrix::Format::kInt4 || w.format == WeightMatrix::Format::kInt8) && VnniAvailable();
}

void MatMul(const float* x, int64_t n, const WeightMatrix& w, float* y) {
  if (n <= 0 || w.rows == 0) return;
  if (n < kGemmMinRows) {
    if (MatMulQuantizesActivations(w, n)) {
      MatVecVnni(x, n, w, y);
    } else {
      MatVecRows(x, n, w, y);
    }
    return;
  }
  // Blocks of W's rows (y's columns), spread over the pool; each thread
  // widens a bf16 block into its own buffer, then one sgemm per block.
  const int64_t blocks = (w.rows + kGemmBlockRows - 1) / kGemmBlockRows;
  ThreadPool::Default().ParallelFor(blocks, n * kGemmBlockRows * w.cols, kMinParallelWork, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> block;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * kGemmBlockRows, rows = std::min(kGemmBlockRows, w.rows - r0);
      if (w.format == WeightMatrix::Format::kF32) {
        GemmF32(x, n, w.f32_row(r0), rows, w.cols, w.stride, y + r0, w.rows);
        continue;
      }
      block.resize(static_cast<size_t>(rows * w.cols));
      for (int64_t r = 0; r < rows; ++r) w.RowToF32(r0 + r, block.data() + r * w.cols);
      GemmF32(x, n, block.data(), rows, w.cols, w.cols, y + r0, w.rows);
    }
  });
}

void ParallelSgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float* c, int64_t ldc) {
  constexpr int64_t kRowsPerTask = 64;
  const int64_t tasks = (m + kRowsPerTask - 1) / kRowsPerTask;
  ThreadPool::Default().ParallelFor(tasks, kRowsPerTask * n * k, kMinParallelWork, [&](int64_t t0, int64_t t1) {
    const int64_t r0 = t0 * kRowsPerTask, r1 = std::min(m, t1 * kRowsPerTask);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(r1 - r0),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a + r0 * lda, static_cast<int>(lda), b,
                static_cast<int>(ldb), 0.0f, c + r0 * ldc, static_cast<int>(ldc));
  });
}

}  // namespace gemma3n
