// Writes the sub-model of a slicing profile as a Hugging Face checkpoint of
// its own, as the MatFormer Lab exports it, so other tools can load it:
//  - decoder layers: skipped ones dropped, the rest renumbered; gate/up keep
//    their first d rows, down its first d columns;
//  - per_layer_model_projection [L*P, H] and embed_tokens_per_layer
//    [V, L*P] keep the kept layers' P-slices;
//  - every other tensor (embeddings, AltUp projections, audio and vision
//    towers, embedders) unchanged; bytes are copied, never recomputed;
//  - config.json: text_config's num_hidden_layers, intermediate_size,
//    layer_types, num_kv_shared_layers and activation_sparsity_pattern
//    edited; tokenizer and processor files copied.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "text_worker/matformer/slicing_profile.h"

namespace gemma3n {

struct SliceOptions {
  int64_t max_shard_bytes = 4'000'000'000;  // the Lab's ~4 GB shards
};

// `out_dir` is created; it must not hold a checkpoint already.
absl::Status WriteSlicedCheckpoint(const std::string& model_dir, const SlicingProfile& profile,
                                   const std::string& out_dir, const SliceOptions& options = {});

}  // namespace gemma3n
