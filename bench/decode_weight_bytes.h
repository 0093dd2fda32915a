// Bytes of weights one decode step reads, computed from the loaded model's
// config, layer specs and weight format: the figure a generation speed is
// bounded by (memory bandwidth / these bytes = tokens/s at best), since at
// one token per step every matrix is streamed from memory once and used for
// one row only.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/kernels/quantize.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

// Every matrix of the text tensor table (text_tensors.h) that is loaded, for
// the layers that run (plan: the kept layers at their FFN widths; null: all):
// the tied LM head (embed_tokens, read whole for the logits) plus the token's
// embedding row, the token's per-layer-embedding row, and the rest once each.
// Sizes follow ConvertTextWeights: int8/int4 blocks carry one f32 scale per
// 32 weights, matrices whose width is not a multiple of 32 and the AltUp
// routers stay in the checkpoint's dtype (bf16 as is, f16/f32 widened to f32).
// The KV cache (a few MB at short contexts), the small norm vectors and the
// AltUp coefficients (the table's f32 tensors) are not counted.
// Activation-sparse layers (E2B / E4B: the first 10, sparsity 0.95) read
// their whole gate projection, but only the up-projection rows and the
// (transposed) down-projection rows of the channels the Gaussian top-k keeps
// (sparse_matvec.h): for a Gaussian gate that is 1 - sparsity of them, the
// figure counted here ("rows read"); `dense` counts every row as if all were
// read (the bound the README's tables before issue #18 used).
struct DecodeBytes {
  int64_t read = 0;   // what a decode step reads, sparse layers at their kept channels
  int64_t dense = 0;  // every matrix whole
};
absl::StatusOr<DecodeBytes> DecodeWeightBytes(const TextModel& model, const ElasticPlan* plan, WeightFormat format);

}  // namespace gemma3n
