// Convolution-network kernels on channels-last feature maps [h, w, c]
// (row-major), with TensorFlow-style "same" padding: total padding
// max((ceil(in / s) - 1) * s + k - in, 0), the odd pixel at the bottom/right.
// Pointwise (1x1) convolutions are matrix products and go through MatMul.
#pragma once

#include <cstdint>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

struct FeatureMap {
  int h = 0, w = 0, c = 0;
  std::vector<float> data;  // [h, w, c]
  float* at(int y, int x) { return data.data() + (static_cast<int64_t>(y) * w + x) * c; }
  const float* at(int y, int x) const { return data.data() + (static_cast<int64_t>(y) * w + x) * c; }
  int64_t pixels() const { return static_cast<int64_t>(h) * w; }
};

// Full convolution; kernel [cout, cin, k, k] (PyTorch OIHW), optional bias [cout].
FeatureMap Conv2dSame(ThreadPool& pool, const FeatureMap& x, const std::vector<float>& kernel, int cout, int k, int stride,
                      const std::vector<float>* bias = nullptr);
// Depthwise convolution; kernel [c, 1, k, k].
FeatureMap DepthwiseConv2dSame(ThreadPool& pool, const FeatureMap& x, const std::vector<float>& kernel, int k, int stride);
// 1x1 convolution: weight [cout, cin].
FeatureMap Pointwise(ThreadPool& pool, const FeatureMap& x, const WeightMatrix& weight);
// RMS norm over channels at every pixel, times weight[c]; optional GELU (tanh).
void RmsNorm2d(FeatureMap& x, const std::vector<float>& weight, float eps, bool gelu);
// Nearest-neighbour resize to (h, w) as F.interpolate(mode="nearest").
FeatureMap ResizeNearest(const FeatureMap& x, int h, int w);
// Average pooling, no padding.
FeatureMap AvgPool(const FeatureMap& x, int k, int stride);

}  // namespace gemma3n
