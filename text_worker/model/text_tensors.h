// The text decoder's tensors (model.language_model.*) described once: each
// entry gives its Hugging Face name, its shape as dimensions of the config,
// how it is stored once loaded, when a layer lacks it, and where it goes in
// TextWeights. Loading, int8 / int4 conversion, the weight cache, the
// random-checkpoint shapes, the MatFormer slicer and the decode-bytes count
// all visit this table (ForEachTextTensor), so adding a tensor is one line in
// kModelTensors or kLayerTensors (text_tensors.cc).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/config/model_config.h"
#include "text_worker/model/layer_spec.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

// A dimension of a tensor, resolved from the config (TextDimSize).
enum class TextDim {
  kNone,          // the column dimension of a 1-D tensor
  kHidden,        // hidden_size
  kHeadDim,       // head_dim
  kQueryWidth,    // num_attention_heads * head_dim
  kKvWidth,       // num_key_value_heads * head_dim
  kFfn,           // the layer's intermediate size: MatFormer slices along it
  kAltUp,         // altup_num_inputs (N)
  kAltUpSquared,  // N * N
  kLaurelRank,    // laurel_rank
  kPle,           // hidden_size_per_layer_input (P)
  kLayersPle,     // num_hidden_layers * P: one P-block per layer (MatFormer keeps the kept layers' blocks)
  kVocab,         // vocab_size
  kPleVocab,      // vocab_size_per_layer_input
};

// What loading makes of a tensor.
enum class TensorStorage {
  kConvertible,  // a WeightMatrix read from the mapping, converted to int8 / int4 (ConvertibleMatrices)
  kAsStored,     // a WeightMatrix never converted (the tiny AltUp router)
  kF32,          // an f32 copy (vectors, the AltUp coefficient matrices)
  kElsewhere,    // not held by TextWeights: the per-layer embedding table (PerLayerEmbeddings)
};

// Which layers hold a decoder-layer tensor in TextWeights.
enum class LayerPresence {
  kAll,
  kOwnKv,  // not KV-shared layers: checkpoints keep their k/v, never used, so never loaded
};

struct TextTensorDef {
  // After "model.language_model." (model-wide) or "model.language_model.layers.N."
  // (decoder layer); with a "%d" for the N-1 per-stream AltUp projections.
  const char* name;
  TensorStorage storage;
  TextDim rows;
  TextDim cols;  // kNone: 1-D
  LayerPresence presence;
  // The slot in `w` of the instance `index` (the layer, or the AltUp stream - 1).
  WeightSlot (*slot)(TextWeights& w, int index);
};

// One tensor instance of a checkpoint of the config.
struct TextTensorRef {
  const TextTensorDef& def;
  std::string name;            // the full checkpoint name
  std::vector<int64_t> shape;  // as the checkpoint stores it
  const LayerSpec* spec;       // the layer's spec; null for model-wide tensors
  bool loaded;                 // held by TextWeights (see TensorStorage, LayerPresence)
  WeightSlot slot;             // into the visited weights; monostate when none or not loaded
};

int64_t TextDimSize(TextDim dim, const TextConfig& c, int64_t ffn);
// The tensor's shape for a layer of FFN width `ffn` (ignored by model-wide tensors).
std::vector<int64_t> TextTensorShape(const TextTensorDef& def, const TextConfig& c, int64_t ffn);

// Visits, in a fixed order, every tensor a checkpoint of `config` holds (as
// Hugging Face writes it): the model-wide ones, the per-stream AltUp
// projections (projection i, then unembed projection i), then each layer of
// `specs` (a MatFormer plan's specs visit only its kept layers; names and
// shapes stay those of the checkpoint). `weights`: sized for the config
// (SizeTextWeights), or null to visit names and shapes only. Stops at the
// first error and returns it.
absl::Status ForEachTextTensor(const TextConfig& config, const std::vector<LayerSpec>& specs, TextWeights* weights,
                               absl::FunctionRef<absl::Status(const TextTensorRef&)> visit);

// Gives `w` the layers and AltUp stream matrices of the config (all empty).
void SizeTextWeights(const TextConfig& config, TextWeights& w);

}  // namespace gemma3n
