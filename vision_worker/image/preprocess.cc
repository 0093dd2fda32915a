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

Taps ComputeTaps(int in, int out) {
  Taps t;
  const double scale = static_cast<double>(in) / out;
  const double support = scale >= 1.0 ? scale : 1.0;  // bilinear: half-width 1, widened when shrinking
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  for (int i = 0; i < out; ++i) {
    const double center = scale * (i + 0.5);
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in);
    std::vector<float> w;
    double total = 0.0;
    for (int j = lo; j < hi; ++j) {
      const double x = (j - center + 0.5) * inv;
      const double v = std::max(0.0, 1.0 - std::fabs(x));
      w.push_back(static_cast<float>(v));
      total += v;
    }
    if (total > 0) {
      for (float& v : w) v = static_cast<float>(v / total);
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
