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

// The rows of one sequence within a batched forward: rows [row0, row0 + n)
// are its tokens at positions [p0, p0 + n). Attention is the only step that
// looks across rows, and it stays within a sequence (its own cache).
struct SequenceRows {
  int64_t row0 = 0;
  int64_t n = 0;
  int64_t p0 = 0;
  KvCache* cache = nullptr;
  // contexts[i] holds layer i's attention context for this chunk once layer
  // i ran (KV-shared layers read their source's).
  std::vector<AttentionContext>* contexts = nullptr;
};

struct LayerInputs {
  ThreadPool* pool = nullptr;        // the model's threads
  int64_t n = 0;                     // rows in the batch (all sequences)
  std::vector<SequenceRows> seqs;    // a partition of the rows
  std::vector<int64_t> positions;    // [n] each row's position in its sequence
  const float* per_layer_input = nullptr;  // this layer's [n, ple_dim] rows,
  int64_t per_layer_stride = 0;            // floats between consecutive tokens
  const std::vector<float>* inv_freq = nullptr;  // RoPE [head_dim / 2] of the layer's type
};

// streams [N, n, hidden], updated in place; every sequence's cache gets
// this layer's K/V rows.
void DecoderLayerForward(const LayerSpec& spec, const DecoderLayerWeights& w, const TextConfig& c,
                         const LayerInputs& in, std::vector<float>& streams);

}  // namespace gemma3n
