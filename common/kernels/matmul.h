// y = x W^T: the one hot path every Linear layer goes through, so quantized
// or better-vectorised kernels can replace it behind this signature.
#pragma once

#include <cstdint>

#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// x [n, w.cols] row-major, y [n, w.rows] row-major (overwritten).
// Few rows (decoding): a row-parallel dot-product kernel that reads bf16
// directly. Many rows (prompt processing): OpenBLAS sgemm over blocks of W
// widened to f32 once per call.
void MatMul(const float* x, int64_t n, const WeightMatrix& w, float* y);

// Dot product of an f32 vector with a bf16 row (the decode kernel's core).
float DotBf16(const float* x, const uint16_t* w, int64_t n);

}  // namespace gemma3n
