// Decoding with int8 / int4 weights through AVX512-VNNI integer dot
// products: each row of x is quantized per 32-element block to int8 (scale
// max |x| / 127), and vpdpbusd multiplies it with the weights:
//  - int4: the unsigned nibbles (q in [0, 15]) times x; the offset of 8
//    comes back out through the blocks' sums of x;
//  - int8: |w| times x with w's sign moved onto x.
// About half the instructions of widening the weights to f32, at the price
// of rounding x to 8 bits (the quantized weights carry more error already).
#pragma once

#include <cstdint>

#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// y = x W^T for int8 or int4 W and few rows of x (x [n, w.cols], y [n, w.rows]).
// Only where Kernels() has the VNNI entries (see MatMulQuantizesActivations).
void MatVecVnni(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y);

// The same product for many rows of x (prompts): panels of 16 weight rows
// are repacked so that one vpdpbusd serves all 16 rows (see VnniGemmPanel),
// and each panel is multiplied with every row of x. x is rounded exactly as
// in MatVecVnni, so prompt and decode see the same products.
void GemmVnni(ThreadPool& pool, const float* x, int64_t n, const WeightMatrix& w, float* y);

}  // namespace gemma3n
