#include "text_worker/model/layer_spec.h"

#include <cmath>

namespace gemma3n {

double NormalQuantile(double p) {
  // Newton iterations on the CDF, from a good starting point; p in (0, 1).
  double x = 0.0;
  for (int i = 0; i < 100; ++i) {
    const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    const double step = (cdf - p) / pdf;
    x -= step;
    if (std::fabs(step) < 1e-15) break;
  }
  return x;
}

std::vector<LayerSpec> BuildLayerSpecs(const TextConfig& c) {
  const int n = c.num_hidden_layers;
  const int first_shared = n - c.num_kv_shared_layers;
  std::vector<LayerSpec> specs(n);
  for (int i = 0; i < n; ++i) {
    LayerSpec& s = specs[i];
    s.index = i;
    s.attention = c.layer_types[i];
    s.ffn_width = c.intermediate_size[i];
    s.activation_sparsity = c.activation_sparsity_pattern[i];
    s.sparsity_std_multiplier =
        s.activation_sparsity > 0.0f ? static_cast<float>(NormalQuantile(s.activation_sparsity)) : 0.0f;
    s.kv_source = i;
    if (c.num_kv_shared_layers > 0 && i >= first_shared) {
      // The last non-shared layer of the same attention type.
      for (int j = first_shared - 1; j >= 0; --j) {
        if (c.layer_types[j] == s.attention) {
          s.kv_shared = true;
          s.kv_source = j;
          break;
        }
      }
    }
  }
  return specs;
}

}  // namespace gemma3n
