#include "vision_worker/encoder/feature_map.h"

#include <algorithm>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {

// TF "same": output ceil(in / s), padding before = total / 2.
int SameOut(int in, int s) { return (in + s - 1) / s; }
int SamePadBefore(int in, int k, int s) { return std::max((SameOut(in, s) - 1) * s + k - in, 0) / 2; }

// The zeroed output map of a "same" convolution.
FeatureMap SameOutput(const FeatureMap& x, int stride, int channels) {
  FeatureMap y;
  y.h = SameOut(x.h, stride);
  y.w = SameOut(x.w, stride);
  y.c = channels;
  y.data.assign(static_cast<size_t>(y.pixels()) * channels, 0.0f);
  return y;
}

}  // namespace

FeatureMap Conv2dSame(ThreadPool& pool, const FeatureMap& x, const std::vector<float>& kernel, int cout, int k, int stride,
                      const std::vector<float>* bias) {
  FeatureMap y = SameOutput(x, stride, cout);
  const int pt = SamePadBefore(x.h, k, stride), pl = SamePadBefore(x.w, k, stride);
  // Reorder the kernel to [ky, kx, cin, cout] so the inner loop is contiguous.
  std::vector<float> kk(static_cast<size_t>(k) * k * x.c * cout);
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < x.c; ++i)
      for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) kk[((static_cast<size_t>(a) * k + b) * x.c + i) * cout + o] = kernel[((static_cast<size_t>(o) * x.c + i) * k + a) * k + b];
  // Output rows are independent: split them over the kernel threads.
  pool.ParallelFor(y.h, static_cast<int64_t>(y.w) * k * k * x.c * cout, 1 << 16, [&](int64_t y0, int64_t y1) {
  for (int oy = static_cast<int>(y0); oy < y1; ++oy) {
    for (int ox = 0; ox < y.w; ++ox) {
      float* out = y.at(oy, ox);
      if (bias) std::copy(bias->begin(), bias->end(), out);
      for (int a = 0; a < k; ++a) {
        const int iy = oy * stride + a - pt;
        if (iy < 0 || iy >= x.h) continue;
        for (int b = 0; b < k; ++b) {
          const int ix = ox * stride + b - pl;
          if (ix < 0 || ix >= x.w) continue;
          const float* in = x.at(iy, ix);
          const float* w = kk.data() + (static_cast<size_t>(a) * k + b) * x.c * cout;
          for (int i = 0; i < x.c; ++i) {
            const float v = in[i];
            const float* wr = w + static_cast<size_t>(i) * cout;
            for (int o = 0; o < cout; ++o) out[o] += v * wr[o];
          }
        }
      }
    }
  }
  });
  return y;
}

FeatureMap DepthwiseConv2dSame(ThreadPool& pool, const FeatureMap& x, const std::vector<float>& kernel, int k, int stride) {
  FeatureMap y = SameOutput(x, stride, x.c);
  const int pt = SamePadBefore(x.h, k, stride), pl = SamePadBefore(x.w, k, stride);
  std::vector<float> kk(static_cast<size_t>(k) * k * x.c);  // [ky, kx, c]
  for (int c = 0; c < x.c; ++c)
    for (int t = 0; t < k * k; ++t) kk[static_cast<size_t>(t) * x.c + c] = kernel[static_cast<size_t>(c) * k * k + t];
  pool.ParallelFor(y.h, static_cast<int64_t>(y.w) * k * k * x.c, 1 << 16, [&](int64_t y0, int64_t y1) {
  for (int oy = static_cast<int>(y0); oy < y1; ++oy) {
    for (int ox = 0; ox < y.w; ++ox) {
      float* out = y.at(oy, ox);
      for (int a = 0; a < k; ++a) {
        const int iy = oy * stride + a - pt;
        if (iy < 0 || iy >= x.h) continue;
        for (int b = 0; b < k; ++b) {
          const int ix = ox * stride + b - pl;
          if (ix < 0 || ix >= x.w) continue;
          const float* in = x.at(iy, ix);
          const float* w = kk.data() + (static_cast<size_t>(a) * k + b) * x.c;
          for (int c = 0; c < x.c; ++c) out[c] += in[c] * w[c];
        }
      }
    }
  }
  });
  return y;
}

FeatureMap Pointwise(ThreadPool& pool, const FeatureMap& x, const WeightMatrix& weight) {
  FeatureMap y;
  y.h = x.h;
  y.w = x.w;
  y.c = static_cast<int>(weight.rows);
  y.data.resize(static_cast<size_t>(y.pixels()) * y.c);
  MatMul(pool, x.data.data(), x.pixels(), weight, y.data.data());
  return y;
}

void RmsNorm2d(FeatureMap& x, const std::vector<float>& weight, float eps, bool gelu) {
  RmsNorm(x.data.data(), x.pixels(), x.c, weight.data(), eps, x.data.data());
  if (gelu) GeluTanh(x.data.data(), static_cast<int64_t>(x.data.size()));
}

FeatureMap ResizeNearest(const FeatureMap& x, int h, int w) {
  FeatureMap y;
  y.h = h;
  y.w = w;
  y.c = x.c;
  y.data.resize(static_cast<size_t>(y.pixels()) * y.c);
  for (int oy = 0; oy < h; ++oy) {
    const int iy = std::min(x.h - 1, static_cast<int>(static_cast<int64_t>(oy) * x.h / h));
    for (int ox = 0; ox < w; ++ox) {
      const int ix = std::min(x.w - 1, static_cast<int>(static_cast<int64_t>(ox) * x.w / w));
      std::copy_n(x.at(iy, ix), x.c, y.at(oy, ox));
    }
  }
  return y;
}

FeatureMap AvgPool(const FeatureMap& x, int k, int stride) {
  FeatureMap y;
  y.h = (x.h - k) / stride + 1;
  y.w = (x.w - k) / stride + 1;
  y.c = x.c;
  y.data.assign(static_cast<size_t>(y.pixels()) * y.c, 0.0f);
  const float inv = 1.0f / static_cast<float>(k * k);
  for (int oy = 0; oy < y.h; ++oy) {
    for (int ox = 0; ox < y.w; ++ox) {
      float* out = y.at(oy, ox);
      for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) {
          const float* in = x.at(oy * stride + a, ox * stride + b);
          for (int c = 0; c < x.c; ++c) out[c] += in[c];
        }
      for (int c = 0; c < x.c; ++c) out[c] *= inv;
    }
  }
  return y;
}

}  // namespace gemma3n
