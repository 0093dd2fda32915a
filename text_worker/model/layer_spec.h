// The decoder's structure as data: one LayerSpec per layer, derived from the
// text config. Kernels read the spec; nothing about Gemma 3n's layer pattern
// (sliding/global, KV sharing, sparsity, FFN widths) is hard-coded elsewhere.
#pragma once

#include <vector>

#include "common/config/model_config.h"

namespace gemma3n {

struct LayerSpec {
  int index = 0;
  AttentionType attention = AttentionType::kSliding;
  int ffn_width = 0;       // intermediate size of this layer's MLP
  // Gaussian top-k sparsity of the gate activations: keep entries above
  // mean + std_multiplier * std (std_multiplier = Phi^-1(sparsity)).
  float activation_sparsity = 0.0f;
  float sparsity_std_multiplier = 0.0f;
  // KV-cache sharing: the last num_kv_shared_layers layers compute no K/V of
  // their own and read those of the last earlier layer of the same type.
  bool kv_shared = false;
  int kv_source = 0;  // layer whose K/V this layer attends to (itself when not shared)
};

std::vector<LayerSpec> BuildLayerSpecs(const TextConfig& config);

// Inverse of the standard normal CDF (for the sparsity cut-off).
double NormalQuantile(double p);

}  // namespace gemma3n
