#include "common/kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gemma3n {

float RootMeanSquare(const float* x, int64_t dim) {
  double sum = 0.0;
  for (int64_t i = 0; i < dim; ++i) sum += static_cast<double>(x[i]) * x[i];
  return static_cast<float>(std::sqrt(sum / dim));
}

void RmsNorm(const float* x, int64_t n, int64_t dim, const float* scale, float eps, float* out) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * dim;
    float* orow = out + r * dim;
    double sum = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float inv = 1.0f / std::sqrt(static_cast<float>(sum / dim) + eps);
    if (scale) {
      for (int64_t i = 0; i < dim; ++i) orow[i] = xr[i] * inv * scale[i];
    } else {
      for (int64_t i = 0; i < dim; ++i) orow[i] = xr[i] * inv;
    }
  }
}

void GeluTanh(float* x, int64_t count) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < count; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void SoftCap(float* x, int64_t count, float cap) {
  for (int64_t i = 0; i < count; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void SoftmaxRow(float* x, int64_t count) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < count; ++i) max = std::max(max, x[i]);
  if (!std::isfinite(max)) {  // every entry masked: nothing to attend to
    std::fill(x, x + count, 0.0f);
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < count; ++i) x[i] *= inv;
}

void ApplyRope(float* v, int64_t head_dim, const float* inv_freq, int64_t pos) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // The angle is formed in f32 as the reference does (inv_freq * position).
    const float angle = inv_freq[i] * static_cast<float>(pos);
    const float c = std::cos(angle), s = std::sin(angle);
    const float a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

}  // namespace gemma3n
