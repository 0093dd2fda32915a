// The text decoder's parameters (model.language_model.*), loaded with shape
// checks against the config. Large matrices stay bf16 in the mapping; vectors
// and the tiny AltUp coefficient matrices are f32 copies.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/kernels/quantize.h"
#include "common/kernels/weight_matrix.h"
#include "text_worker/model/layer_spec.h"

namespace gemma3n {

inline constexpr char kTextPrefix[] = "model.language_model.";

struct AttentionWeights {
  WeightMatrix q_proj;  // [heads * head_dim, hidden]
  WeightMatrix k_proj;  // [kv_heads * head_dim, hidden]; empty in KV-shared layers
  WeightMatrix v_proj;  // [kv_heads * head_dim, hidden]; empty in KV-shared layers
  WeightMatrix o_proj;  // [hidden, heads * head_dim]
  std::vector<float> q_norm, k_norm;  // [head_dim]
};

struct MlpWeights {
  WeightMatrix gate_proj;  // [ffn, hidden]
  WeightMatrix up_proj;    // [ffn, hidden]
  WeightMatrix down_proj;  // [hidden, ffn], or [ffn, hidden] when down_transposed
  // Activation-sparse layers keep down_proj transposed: a surviving
  // channel's weights are then one contiguous row (sparse_matvec.h).
  bool down_transposed = false;
};

struct AltUpWeights {
  std::vector<float> correct_output_scale;  // [hidden]
  std::vector<float> correction_coefs;      // [N, N], clipped to +-altup_coef_clip
  std::vector<float> prediction_coefs;      // [N*N, N]
  WeightMatrix modality_router;             // [N, hidden]
  std::vector<float> router_norm;           // [hidden]
};

struct LaurelWeights {
  WeightMatrix linear_left;   // [rank, hidden]
  WeightMatrix linear_right;  // [hidden, rank]
  std::vector<float> post_norm;  // [hidden]
};

struct DecoderLayerWeights {
  AttentionWeights attn;
  MlpWeights mlp;
  AltUpWeights altup;
  LaurelWeights laurel;
  std::vector<float> input_layernorm, post_attention_layernorm;      // [hidden]
  std::vector<float> pre_feedforward_layernorm, post_feedforward_layernorm;
  WeightMatrix per_layer_input_gate;       // [ple_dim, hidden]
  WeightMatrix per_layer_projection;       // [hidden, ple_dim]
  std::vector<float> post_per_layer_input_norm;  // [hidden]
};

// Every tensor's name, shape and slot here: text_tensors.h.
struct TextWeights {
  TextConfig config;             // what the weights were loaded for
  std::vector<LayerSpec> specs;  // one per layer
  WeightMatrix embed_tokens;                // [vocab, hidden]; also the tied LM head
  WeightMatrix per_layer_model_projection;  // [layers * ple_dim, hidden]
  std::vector<float> per_layer_projection_norm;  // [ple_dim]
  std::vector<WeightMatrix> altup_projections;          // N-1 x [hidden, hidden]
  std::vector<WeightMatrix> altup_unembed_projections;  // N-1 x [hidden, hidden]
  std::vector<float> final_norm;            // [hidden]
  std::vector<DecoderLayerWeights> layers;
};

// Every tensor of model.language_model.* a checkpoint of this config holds
// (as Hugging Face writes it: KV-shared layers keep their unused k/v), with
// its shape, in ForEachTextTensor's order. Used to write random-weight
// checkpoints of the real sizes.
std::vector<NamedShape> TextTensorShapes(const TextConfig& config);

// Loads every text-core tensor except embed_tokens_per_layer (served by the
// per-layer-embedding source). KV-shared layers' k/v projections are not
// loaded: they are never used.
absl::StatusOr<TextWeights> LoadTextWeights(const Checkpoint& ckpt, const TextConfig& config,
                                            const std::vector<LayerSpec>& specs);

// The down projections of the activation-sparse layers, kept transposed
// ([ffn, hidden], in bf16 before any conversion, so int blocks run along the
// hidden dimension). In two steps, so that a weight cache can fill them
// without the bf16 originals ever being read: PlanSparseDownTransposes gives
// those matrices their transposed shape (no data yet: `data` is null) and
// returns the originals; TransposeSparseDownProjections fills them in.
struct PendingTransposes {
  std::vector<std::pair<size_t, WeightMatrix>> originals;  // layer index, down_proj as loaded
};
PendingTransposes PlanSparseDownTransposes(TextWeights& w, const std::vector<LayerSpec>& specs);
// release_source: drop the mapped pages of the originals.
absl::Status TransposeSparseDownProjections(ThreadPool& pool, TextWeights& w, PendingTransposes& pending, bool release_source);

// The matrices converted to int8 / int4, by checkpoint tensor name, in
// ForEachTextTensor's order: the loaded kConvertible ones (text_tensors.h)
// whose columns, as multiplied (sparse layers' down_proj transposed), are
// whole kInt8Block blocks. The one list both the conversion and the weight
// cache use.
std::vector<std::pair<std::string, WeightMatrix*>> ConvertibleMatrices(TextWeights& w);

// Converts ConvertibleMatrices(w) to `format` (bf16: nothing to do).
// release_source: drop the mapped bf16 pages afterwards. Returns the bytes of
// the converted matrices.
absl::StatusOr<int64_t> ConvertTextWeights(ThreadPool& pool, TextWeights& w, WeightFormat format, bool release_source);

// Bytes of a matrix's weights (and scales) as stored in its format.
int64_t WeightBytes(const WeightMatrix& m);

}  // namespace gemma3n
