// One USM conformer block on [t, hidden] (t = sub-sampled frames):
//   x += 0.5 * ffw_start(x)              (half-step feed-forward)
//   x += attention(x)                    (chunked local self-attention)
//   x = x * valid                        (padded frames zeroed)
//   x += lconv(x)                        (GLU, causal depthwise conv, SiLU)
//   x += 0.5 * ffw_end(x)
//   x = norm(clip(x))
// Activations are clipped to +-gradient_clipping where the reference does.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "audio_worker/encoder/audio_encoder_config.h"
#include "common/checkpoint/checkpoint.h"
#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

struct AudioFeedForwardWeights {
  std::vector<float> pre_norm, post_norm;  // [hidden]
  WeightMatrix up;                         // [4 hidden, hidden]
  WeightMatrix down;                       // [hidden, 4 hidden]
};

struct AudioAttentionWeights {
  std::vector<float> pre_norm, post_norm;  // [hidden]
  std::vector<float> per_dim_scale;        // [head_dim]
  WeightMatrix q, k, v, post;              // [hidden, hidden]
  WeightMatrix pos_proj;                   // [hidden, hidden]
};

struct LightConvWeights {
  std::vector<float> pre_norm, conv_norm;  // [hidden]
  WeightMatrix linear_start;               // [2 hidden, hidden]
  std::vector<float> depthwise;            // [hidden, kernel]
  WeightMatrix linear_end;                 // [hidden, hidden]
};

struct ConformerBlockWeights {
  AudioFeedForwardWeights ffw_start, ffw_end;
  AudioAttentionWeights attention;
  LightConvWeights lconv;
  std::vector<float> norm;  // [hidden]
};

// Visits block `index`'s tensors: name, shape and field in `w`.
absl::Status ForEachConformerTensor(const AudioEncoderConfig& c, int index, ConformerBlockWeights& w,
                                    absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit);
absl::StatusOr<ConformerBlockWeights> LoadConformerBlock(const Checkpoint& ckpt, const AudioEncoderConfig& c, int index);

// x [t, hidden] in place; padding[t] = 1 where the frame is padding.
void ConformerBlockForward(ThreadPool& pool, const ConformerBlockWeights& w, const AudioEncoderConfig& c, const std::vector<uint8_t>& padding,
                           std::vector<float>& x);

}  // namespace gemma3n
