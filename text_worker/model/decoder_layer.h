// One Gemma 3n decoder layer on the AltUp streams:
//   pred = AltUpPredict(x); a = pred[active]; an = input_norm(a)
//   laurel = an + post_laurel_norm(right(left(an)))
//   h = (a + post_attn_norm(attention(an)) + laurel) / sqrt(2)
//   out = h + post_ffw_norm(mlp(pre_ffw_norm(h)))
//   y = AltUpCorrect(pred, out)
//   y[1:] += post_ple_norm(ple_proj(gelu(ple_gate(y[active] * correct_scale)) * per_layer_input))
#pragma once

#include <cstdint>
#include <vector>

#include "common/config/model_config.h"
#include "text_worker/model/attention.h"
#include "text_worker/model/kv_cache.h"
#include "text_worker/model/layer_spec.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

struct LayerInputs {
  int64_t p0 = 0;  // position of the chunk's first token
  int64_t n = 0;   // tokens in the chunk
  const float* per_layer_input = nullptr;  // this layer's [n, ple_dim] rows,
  int64_t per_layer_stride = 0;            // floats between consecutive tokens
  const std::vector<float>* inv_freq = nullptr;  // RoPE [head_dim / 2] of the layer's type
};

// streams [N, n, hidden], updated in place. contexts[i] holds layer i's
// attention context for this chunk once layer i ran (KV-shared layers read
// their source's).
void DecoderLayerForward(const LayerSpec& spec, const DecoderLayerWeights& w, const TextConfig& c,
                         const LayerInputs& in, KvCache& cache, std::vector<AttentionContext>& contexts,
                         std::vector<float>& streams);

}  // namespace gemma3n
