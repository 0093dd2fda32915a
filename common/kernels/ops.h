// Element-wise and row-wise kernels of the decoder. Every function works on
// `n` rows of `dim` contiguous floats unless stated otherwise.
#pragma once

#include <cstdint>

namespace gemma3n {

// out = x / sqrt(mean(x^2) + eps) * scale (Gemma 3n multiplies by the weight
// itself, not 1 + weight); scale == nullptr means no scale. out may alias x.
void RmsNorm(const float* x, int64_t n, int64_t dim, const float* scale, float eps, float* out);

// GELU, tanh approximation (gelu_pytorch_tanh), in place.
void GeluTanh(float* x, int64_t count);

// cap * tanh(x / cap), in place.
void SoftCap(float* x, int64_t count, float cap);

// Softmax of one row in place (max-subtracted; -inf entries become 0).
void SoftmaxRow(float* x, int64_t count);

// Rotary embedding ("rotate half" layout) of one head vector [head_dim] at
// absolute position `pos`; inv_freq has head_dim/2 entries.
void ApplyRope(float* v, int64_t head_dim, const float* inv_freq, int64_t pos);

// Root mean square of a row, sqrt(mean(x^2)).
float RootMeanSquare(const float* x, int64_t dim);

}  // namespace gemma3n
