#include "vision_worker/image/preprocess.h"

#include <algorithm>
#include <cmath>

namespace gemma3n {
namespace {

// Per output index: first input index and normalised triangle weights.
struct Taps {
  std::vector<int> first;
  std::vector<std::vector<float>> weights;
};

// In float, step for step as torch's antialiased upsampling computes them, so
// that the rounding back to uint8 agrees as often as possible.
Taps ComputeTaps(int in, int out) {
  Taps t;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? 1.0f * scale : 1.0f;  // bilinear: half-width 1, widened when shrinking
  const float inv = scale >= 1.0f ? 1.0f / scale : 1.0f;
  for (int i = 0; i < out; ++i) {
    const float center = scale * (static_cast<float>(i) + 0.5f);
    const int lo = std::max(static_cast<int>(center - support + 0.5f), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5f), in);
    std::vector<float> w;
    float total = 0.0f;
    for (int j = lo; j < hi; ++j) {
      const float x = (static_cast<float>(j) - center + 0.5f) * inv;
      const float v = std::fabs(x) < 1.0f ? 1.0f - std::fabs(x) : 0.0f;
      w.push_back(v);
      total += v;
    }
    if (total != 0.0f) {
      for (float& v : w) v /= total;
    }
    t.first.push_back(lo);
    t.weights.push_back(std::move(w));
  }
  return t;
}

}  // namespace

std::vector<uint8_t> ResizeBilinearAntialias(const RgbImage& image, int out_h, int out_w) {
  const int in_h = image.height, in_w = image.width;
  const Taps tx = ComputeTaps(in_w, out_w), ty = ComputeTaps(in_h, out_h);
  std::vector<uint8_t> out(static_cast<size_t>(3) * out_h * out_w);
  std::vector<float> row_pass(static_cast<size_t>(in_h) * out_w);  // [in_h, out_w] for one channel
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < in_h; ++y) {
      const uint8_t* src = image.pixels.data() + static_cast<size_t>(y) * in_w * 3 + c;
      for (int x = 0; x < out_w; ++x) {
        float acc = 0.0f;
        const auto& w = tx.weights[x];
        for (size_t k = 0; k < w.size(); ++k) acc += w[k] * src[(tx.first[x] + k) * 3];
        row_pass[static_cast<size_t>(y) * out_w + x] = acc;
      }
    }
    for (int y = 0; y < out_h; ++y) {
      const auto& w = ty.weights[y];
      for (int x = 0; x < out_w; ++x) {
        float acc = 0.0f;
        for (size_t k = 0; k < w.size(); ++k) acc += w[k] * row_pass[(ty.first[y] + k) * out_w + x];
        out[(static_cast<size_t>(c) * out_h + y) * out_w + x] =
            static_cast<uint8_t>(std::clamp(std::nearbyint(acc), 0.0f, 255.0f));
      }
    }
  }
  return out;
}

std::vector<float> PixelValues(const RgbImage& image, int size) {
  const std::vector<uint8_t> resized = ResizeBilinearAntialias(image, size, size);
  std::vector<float> out(resized.size());
  const float scale = 1.0f / 255.0f;
  for (size_t i = 0; i < resized.size(); ++i) out[i] = static_cast<float>(resized[i]) * scale;
  return out;
}

}  // namespace gemma3n
