// y = x W^T: the one hot path every Linear layer goes through, so quantized
// or better-vectorised kernels can replace it behind this signature.
#pragma once

#include <cstdint>

#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// From this many rows of x on, MatMul widens blocks of W to f32 and calls
// sgemm (prompts); below it, the weights are streamed once through the dot
// kernels (decoding, batched decoding).
inline constexpr int64_t kGemmMinRows = 24;

// x [n, w.cols] row-major, y [n, w.rows] row-major (overwritten).
// Few rows (decoding): a row-parallel dot-product kernel that reads bf16
// directly. Many rows (prompt processing): each pool thread widens its own
// blocks of W to f32 and multiplies them with single-threaded OpenBLAS sgemm.
// Every kernel here splits its work over `pool`.
void MatMul(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y);

// y = x W for a weight stored transposed, W^T = wt [k, m] (x [n, k], y [n, m]):
// the FFN down projections of the activation-sparse layers are kept this way
// so that a surviving channel's weights are one contiguous row (see
// sparse_matvec.h).
void MatMulTransposed(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& wt, float* y);

// Whether MatMul(x, n, w) rounds x to 8 bits per 32-element block: int8
// and int4 weights on a CPU with AVX512-VNNI, where decode (MatVecVnni) and
// prompts (GemmVnni) multiply in integers (see vnni_matvec.h); elsewhere x
// is used as is.
bool MatMulQuantizesActivations(const WeightMatrix& w, int64_t n);

// Row-major C[m, n] = A[m, k] * B (B [k, n]) or A * B^T (trans_b: B [n, k]),
// split over the rows of C across the thread pool.
void ParallelSgemm(ThreadPool& pool, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc);

// Row r of w dotted with x[w.cols], in w's format.
float DotRow(const DotKernels& k, const float* x, const WeightMatrix& w, int64_t r);
// y[c] += a * w[r, c] for c in [c0, c1); c0 a multiple of kInt8Block.
void AxpyRow(const DotKernels& k, float a, const WeightMatrix& w, int64_t r, int64_t c0, int64_t c1, float* y);

// Dot product of an f32 vector with a bf16 row (the decode kernel's core).
float DotBf16(const float* x, const uint16_t* w, int64_t n);
// Dot product of two f32 vectors, vectorised (attention scores, f32 weights).
float DotF32(const float* x, const float* w, int64_t n);

}  // namespace gemma3n
