#include "text_worker/model/mlp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"

namespace gemma3n {

void GaussianTopK(float* gate, int64_t n, int64_t width, float std_multiplier) {
  for (int64_t t = 0; t < n; ++t) {
    float* g = gate + t * width;
    double sum = 0.0;
    for (int64_t i = 0; i < width; ++i) sum += g[i];
    const double mean = sum / width;
    double var = 0.0;  // population variance (unbiased=False)
    for (int64_t i = 0; i < width; ++i) var += (g[i] - mean) * (g[i] - mean);
    const float cutoff = static_cast<float>(mean + std::sqrt(var / width) * std_multiplier);
    for (int64_t i = 0; i < width; ++i) g[i] = std::max(0.0f, g[i] - cutoff);
  }
}

void MlpForward(const MlpWeights& w, const LayerSpec& spec, const float* x, int64_t n, float* out) {
  // MatFormer: a narrower layer uses the first f rows of gate/up and the
  // first f columns of down, as views of the full matrices.
  const int64_t f = spec.ffn_width;
  std::vector<float> gate(static_cast<size_t>(n * f)), up(static_cast<size_t>(n * f));
  MatMul(x, n, w.gate_proj.TopRows(f), gate.data());
  if (spec.activation_sparsity > 0.0f) GaussianTopK(gate.data(), n, f, spec.sparsity_std_multiplier);
  GeluTanh(gate.data(), n * f);
  MatMul(x, n, w.up_proj.TopRows(f), up.data());
  for (size_t i = 0; i < gate.size(); ++i) gate[i] *= up[i];
  MatMul(gate.data(), n, w.down_proj.LeftCols(f), out);
}

}  // namespace gemma3n
