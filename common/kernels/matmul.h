// y = x W^T: the one hot path every Linear layer goes through, so quantized
// or better-vectorised kernels can replace it behind this signature.
#pragma once

#include <cstdint>

#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// x [n, w.cols] row-major, y [n, w.rows] row-major (overwritten).
// Few rows (decoding): a row-parallel dot-product kernel that reads bf16
// directly. Many rows (prompt processing): each pool thread widens its own
// blocks of W to f32 and multiplies them with single-threaded OpenBLAS sgemm.
void MatMul(const float* x, int64_t n, const WeightMatrix& w, float* y);

// Whether MatMul(x, n, w) rounds x to 8 bits per 32-element block (int8 and
// int4 weights decoded with AVX512-VNNI, see vnni_matvec.h) instead of using
// x as is.
bool MatMulQuantizesActivations(const WeightMatrix& w, int64_t n);

// Row-major C[m, n] = A[m, k] * B (B [k, n]) or A * B^T (trans_b: B [n, k]),
// split over the rows of C across the thread pool.
void ParallelSgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float* c, int64_t ldc);

// Dot product of an f32 vector with a bf16 row (the decode kernel's core).
float DotBf16(const float* x, const uint16_t* w, int64_t n);
// Dot product of two f32 vectors, vectorised (attention scores, f32 weights).
float DotF32(const float* x, const float* w, int64_t n);

}  // namespace gemma3n
