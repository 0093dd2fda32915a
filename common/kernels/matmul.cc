#include "common/kernels/matmul.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "common/kernels/vnni_matvec.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

constexpr int64_t kGemmBlockRows = 256;
// Multiply-adds below which a kernel runs on the calling thread alone.
constexpr int64_t kMinParallelWork = 1 << 16;

void MatVecRows(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y) {
  const DotKernels& k = Kernels();
  // bf16: x reordered once for the two-op widening of the prepared kernels.
  thread_local std::vector<float> prepared;
  if (w.format == WeightMatrix::Format::kBF16) {
    prepared.resize(static_cast<size_t>(n * w.cols));
    for (int64_t t = 0; t < n; ++t) k.prepare_bf16(x + t * w.cols, w.cols, prepared.data() + t * w.cols);
    x = prepared.data();
  }
  pool.ParallelFor(w.rows, n * w.cols, kMinParallelWork, [&](int64_t r0, int64_t r1) {
    if (w.format != WeightMatrix::Format::kF32 && n > 1) {
      // Batched decoding: each weight row is widened once per group of rows of x.
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t t0 = 0; t0 < n; t0 += kDotGroup) {
          const int group = static_cast<int>(std::min<int64_t>(kDotGroup, n - t0));
          const float* xt = x + t0 * w.cols;
          float* yt = y + t0 * w.rows + r;
          switch (w.format) {
            case WeightMatrix::Format::kBF16:
              k.dot_bf16_group_prepared(xt, w.cols, group, w.bf16_row(r), w.cols, yt, w.rows);
              break;
            case WeightMatrix::Format::kInt8:
              k.dot_int8_group(xt, w.cols, group, w.int8_row(r), w.scale_row(r), w.cols, yt, w.rows);
              break;
            case WeightMatrix::Format::kInt4:
              k.dot_int4_group(xt, w.cols, group, w.int4_row(r), w.scale_row(r), w.cols, yt, w.rows);
              break;
            case WeightMatrix::Format::kF32: break;
          }
        }
      }
      return;
    }
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * w.cols;
      float* yt = y + t * w.rows;
      if (w.format == WeightMatrix::Format::kBF16) {
        for (int64_t r = r0; r < r1; ++r) yt[r] = k.dot_bf16_prepared(xt, w.bf16_row(r), w.cols);
      } else {
        for (int64_t r = r0; r < r1; ++r) yt[r] = DotRow(k, xt, w, r);
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

float DotF32(const float* x, const float* w, int64_t n) { return Kernels().dot_f32(x, w, n); }

float DotBf16(const float* x, const uint16_t* w, int64_t n) { return Kernels().dot_bf16(x, w, n); }

float DotRow(const DotKernels& k, const float* x, const WeightMatrix& w, int64_t r) {
  switch (w.format) {
    case WeightMatrix::Format::kBF16: return k.dot_bf16(x, w.bf16_row(r), w.cols);
    case WeightMatrix::Format::kInt8: return k.dot_int8(x, w.int8_row(r), w.scale_row(r), w.cols);
    case WeightMatrix::Format::kInt4: return k.dot_int4(x, w.int4_row(r), w.scale_row(r), w.cols);
    case WeightMatrix::Format::kF32: break;
  }
  return k.dot_f32(x, w.f32_row(r), w.cols);
}

void AxpyRow(const DotKernels& k, float a, const WeightMatrix& w, int64_t r, int64_t c0, int64_t c1, float* y) {
  // c0 is a multiple of kInt8Block for the block formats, so a column range
  // starts on a block: scale index c0 / 32, int4 bytes from c0 / 2.
  switch (w.format) {
    case WeightMatrix::Format::kBF16: k.axpy_bf16(a, w.bf16_row(r) + c0, c1 - c0, y + c0); return;
    case WeightMatrix::Format::kInt8:
      k.axpy_int8(a, w.int8_row(r) + c0, w.scale_row(r) + c0 / kInt8Block, c1 - c0, y + c0);
      return;
    case WeightMatrix::Format::kInt4:
      k.axpy_int4(a, w.int4_row(r) + c0 / 2, w.scale_row(r) + c0 / kInt8Block, c1 - c0, y + c0);
      return;
    case WeightMatrix::Format::kF32: k.axpy_f32(a, w.f32_row(r) + c0, c1 - c0, y + c0); return;
  }
}

bool MatMulQuantizesActivations(const WeightMatrix& w, int64_t n) {
  (void)n;  // decode (MatVecVnni) and prompts (GemmVnni) alike
  return (w.format == WeightMatrix::Format::kInt4 || w.format == WeightMatrix::Format::kInt8) &&
         Kernels().vnni_dot_int8 != nullptr && w.cols % kInt8Block == 0;
}

void MatMul(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y) {
  if (n <= 0 || w.rows == 0) return;
  if (n < kGemmMinRows) {
    if (MatMulQuantizesActivations(w, n)) {
      MatVecVnni(pool, x, n, w, y);
    } else {
      MatVecRows(pool, x, n, w, y);
    }
    return;
  }
  if (MatMulQuantizesActivations(w, n)) {
    GemmVnni(pool, x, n, w, y);
    return;
  }
  // Blocks of W's rows (y's columns), spread over the pool; each thread
  // widens a bf16 block into its own buffer, then one sgemm per block.
  const int64_t blocks = (w.rows + kGemmBlockRows - 1) / kGemmBlockRows;
  pool.ParallelFor(blocks, n * kGemmBlockRows * w.cols, kMinParallelWork, [&](int64_t b0, int64_t b1) {
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

void MatMulTransposed(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& wt, float* y) {
  const int64_t k = wt.rows, m = wt.cols;
  if (n <= 0 || m == 0) return;
  // Column blocks of y (= of wt) spread over the pool; each thread runs
  // down the k rows of its block.
  const int64_t blocks = (m + kGemmBlockRows - 1) / kGemmBlockRows;
  pool.ParallelFor(blocks, n * k * kGemmBlockRows, kMinParallelWork, [&](int64_t b0, int64_t b1) {
    const DotKernels& kernels = Kernels();
    thread_local std::vector<float> block;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t c0 = b * kGemmBlockRows, c1 = std::min(m, c0 + kGemmBlockRows), width = c1 - c0;
      if (n < kGemmMinRows) {  // axpy of each row of wt, weighted by x
        for (int64_t t = 0; t < n; ++t) {
          float* yt = y + t * m;
          std::fill(yt + c0, yt + c1, 0.0f);
          for (int64_t r = 0; r < k; ++r) AxpyRow(kernels, x[t * k + r], wt, r, c0, c1, yt);
        }
        continue;
      }
      // Widen kGemmBlockRows rows of the block at a time; sgemm accumulates.
      for (int64_t r0 = 0; r0 < k; r0 += kGemmBlockRows) {
        const int64_t rows = std::min(kGemmBlockRows, k - r0);
        block.resize(static_cast<size_t>(rows * width));
        for (int64_t r = 0; r < rows; ++r) wt.ColsToF32(r0 + r, c0, c1, block.data() + r * width);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(width),
                    static_cast<int>(rows), 1.0f, x + r0, static_cast<int>(k), block.data(), static_cast<int>(width),
                    r0 == 0 ? 0.0f : 1.0f, y + c0, static_cast<int>(m));
      }
    }
  });
}

void ParallelSgemm(ThreadPool& pool, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc) {
  constexpr int64_t kRowsPerTask = 64;
  const int64_t tasks = (m + kRowsPerTask - 1) / kRowsPerTask;
  pool.ParallelFor(tasks, kRowsPerTask * n * k, kMinParallelWork, [&](int64_t t0, int64_t t1) {
    const int64_t r0 = t0 * kRowsPerTask, r1 = std::min(m, t1 * kRowsPerTask);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(r1 - r0),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a + r0 * lda, static_cast<int>(lda), b,
                static_cast<int>(ldb), 0.0f, c + r0 * ldc, static_cast<int>(ldc));
  });
}

}  // namespace gemma3n
