// The gated MLP: down(gelu(gate(x)) * up(x)), where layers with activation
// sparsity first apply the Gaussian top-k cut to the gate pre-activations:
// gate = relu(gate - (mean + std * Phi^-1(sparsity))), statistics per token.
#pragma once

#include <cstdint>

#include "common/kernels/thread_pool.h"
#include "common/config/model_config.h"
#include "text_worker/model/layer_spec.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

// x [n, hidden] -> out [n, hidden].
void MlpForward(ThreadPool& pool, const MlpWeights& w, const LayerSpec& spec, const float* x, int64_t n, float* out);

// The Gaussian top-k cut, in place on rows [n, width].
void GaussianTopK(float* gate, int64_t n, int64_t width, float std_multiplier);

}  // namespace gemma3n
