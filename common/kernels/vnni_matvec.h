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

#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// Whether this build and this CPU have AVX512-VNNI.
bool VnniAvailable();

// y = x W^T for int8 or int4 W and few rows of x (x [n, w.cols], y [n, w.rows]).
void MatVecVnni(const float* x, int64_t n, const WeightMatrix& w, float* y);

}  // namespace gemma3n
