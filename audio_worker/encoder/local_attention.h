// The conformer's chunked local self-attention. Queries come in blocks of
// chunk_size; each block sees its own frames and the context_left - 1 frames
// before it (context_right after), so a frame attends to itself and the
// previous context_left - 1 frames. Logits: q.k plus q.(relative position
// embedding of the distance), soft-capped; queries scaled per dimension by
// softplus(per_dim_scale) / (softplus(0) sqrt(head_dim)). Padded frames are
// masked; a query with nothing to see averages its whole context (as the
// reference's softmax over all-masked logits does).
#pragma once

#include <cstdint>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "audio_worker/encoder/audio_encoder_config.h"
#include "audio_worker/encoder/conformer_block.h"

namespace gemma3n {

// x [t, hidden] (normed) -> context vectors [t, hidden] (before `post`).
std::vector<float> LocalAttention(ThreadPool& pool, const AudioAttentionWeights& w, const AudioEncoderConfig& c,
                                  const std::vector<float>& x, const std::vector<uint8_t>& padding);

}  // namespace gemma3n
